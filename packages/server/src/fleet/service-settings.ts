/**
 * Service settings: `/ssm/managed-instance/activation-tier`, standard (the default: at most
 * 1,000 registered managed instances) or advanced (no such limit). AWS's Status values: Default
 * until changed; PendingUpdate for a short while after an update (the new value already
 * applies in Airlock), then Customized; Default again after a reset.
 */
import { ApiError, fleet as api, type InputOf } from '@airlock/protocol';
import { assumedRoleArn } from '../identity/principal.js';
import type { CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import { readSetting, writeSetting } from '../storage/settings.js';

export const STANDARD_TIER_LIMIT = 1000;
/** How long after an update GetServiceSetting says PendingUpdate, as AWS does while it applies one. */
export const PENDING_UPDATE_MS = 10_000;

type Tier = (typeof api.ACTIVATION_TIERS)[number];

interface StoredSetting {
  readonly value: string;
  readonly status: 'Default' | 'Customized';
  readonly modifiedAt: number;
  readonly modifiedBy: string;
}

interface SettingSpec {
  readonly defaultValue: string;
  readonly values: readonly string[];
}

const SETTINGS: ReadonlyMap<string, SettingSpec> = new Map([[api.ACTIVATION_TIER_SETTING, { defaultValue: 'standard', values: api.ACTIVATION_TIERS }]]);
const storageKey = (id: string): string => `ssm-service-setting:${id}`;

const settingArn = (services: Services, id: string): string => `arn:aws:ssm:${services.config.region}:${services.accountId}:servicesetting${id}`;

/** The setting's path, from the path or the ARN; ServiceSettingNotFound for anything else. */
function settingPath(services: Services, settingId: string): { id: string; spec: SettingSpec } {
  const prefix = `arn:aws:ssm:${services.config.region}:${services.accountId}:servicesetting`;
  const id = settingId.startsWith('arn:') ? (settingId.startsWith(`${prefix}/`) ? settingId.slice(prefix.length) : '') : settingId;
  const spec = SETTINGS.get(id);
  if (spec === undefined) {
    throw new ApiError('ServiceSettingNotFound', `There is no service setting ${settingId}. Airlock has ${[...SETTINGS.keys()].join(', ')} (or its ARN, ${prefix}…).`);
  }
  return { id, spec };
}

async function stored(db: Db, id: string): Promise<StoredSetting | undefined> {
  const text = await readSetting(db, storageKey(id));
  return text === undefined ? undefined : (JSON.parse(text) as StoredSetting);
}

/** The tier in force (standard until changed). */
export async function activationTier(db: Db): Promise<Tier> {
  const setting = await stored(db, api.ACTIVATION_TIER_SETTING);
  return setting?.value === 'advanced' ? 'advanced' : 'standard';
}

function view(services: Services, id: string, spec: SettingSpec, setting: StoredSetting | undefined, now: number) {
  const status: (typeof api.SETTING_STATUSES)[number] = setting === undefined || setting.status === 'Default' ? 'Default' : now - setting.modifiedAt < PENDING_UPDATE_MS ? 'PendingUpdate' : 'Customized';
  return {
    ServiceSetting: {
      SettingId: id,
      SettingValue: setting?.value ?? spec.defaultValue,
      ...(setting === undefined ? {} : { LastModifiedDate: setting.modifiedAt / 1000 }),
      LastModifiedUser: setting?.modifiedBy ?? 'System',
      ARN: settingArn(services, id),
      Status: status,
    },
  };
}

function callerArn({ principal }: CallContext): string {
  switch (principal.kind) {
    case 'role':
      return assumedRoleArn(principal);
    case 'root':
      return `arn:aws:iam::${principal.accountId}:root`;
    case 'portal':
      return principal.userName;
    case 'anonymous':
      return 'anonymous';
  }
}

async function getServiceSetting(input: InputOf<typeof api.GetServiceSetting>, { services, now }: CallContext) {
  const { id, spec } = settingPath(services, input.SettingId);
  return view(services, id, spec, await stored(services.db, id), now);
}

async function updateServiceSetting(input: InputOf<typeof api.UpdateServiceSetting>, context: CallContext) {
  const { services, now } = context;
  const { id, spec } = settingPath(services, input.SettingId);
  if (!spec.values.includes(input.SettingValue)) {
    throw new ApiError('ValidationException', `${input.SettingValue} is not a value of ${id}: use ${spec.values.join(' or ')}.`);
  }
  if (id === api.ACTIVATION_TIER_SETTING && input.SettingValue === 'standard') await checkDowngrade(services.db);
  const setting: StoredSetting = { value: input.SettingValue, status: 'Customized', modifiedAt: now, modifiedBy: callerArn(context) };
  await writeSetting(services.db, storageKey(id), JSON.stringify(setting));
  return {};
}

async function resetServiceSetting(input: InputOf<typeof api.ResetServiceSetting>, context: CallContext) {
  const { services, now } = context;
  const { id, spec } = settingPath(services, input.SettingId);
  if (id === api.ACTIVATION_TIER_SETTING && spec.defaultValue === 'standard') await checkDowngrade(services.db);
  const setting: StoredSetting = { value: spec.defaultValue, status: 'Default', modifiedAt: now, modifiedBy: callerArn(context) };
  await writeSetting(services.db, storageKey(id), JSON.stringify(setting));
  return view(services, id, spec, setting, now);
}

/** Managed instances registered and not deregistered: what the standard tier counts. */
export async function registeredManagedInstances(db: Db): Promise<number> {
  const row = await db
    .selectFrom('instances')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('count'))
    .where('resource_type', '=', 'ManagedInstance')
    .where('deregistered_at', 'is', null)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** Back to standard only while at most 1,000 managed instances are registered. */
async function checkDowngrade(db: Db): Promise<void> {
  const count = await registeredManagedInstances(db);
  if (count > STANDARD_TIER_LIMIT) {
    throw new ApiError('ValidationException', `${count} managed instances are registered; the standard tier holds ${STANDARD_TIER_LIMIT}. Deregister ${count - STANDARD_TIER_LIMIT} first.`);
  }
}

export const serviceSettingHandlers = { getServiceSetting, updateServiceSetting, resetServiceSetting };
