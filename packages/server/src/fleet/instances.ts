/**
 * Managed instances: DescribeInstanceInformation (with AWS's filters, tag filters included),
 * GetConnectionStatus, tags, and DeregisterManagedInstance, which cuts the agent off at once and
 * revokes its key.
 */
import { ApiError, fleet as api, type InputOf } from '@airlock/protocol';
import type { ExpressionBuilder, SelectQueryBuilder, Transaction } from 'kysely';
import { callerAccount } from '../identity/principal.js';
import type { CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { Database, InstancesTable } from '../storage/schema.js';
import { decodeToken, encodeToken } from './paging.js';
import { checkTags, type Tag } from './tags.js';
import { isLatestAgentVersion } from './version.js';

export type InstanceQuery = SelectQueryBuilder<Database, 'instances', InstancesTable>;
type Filter = { readonly Key: string; readonly Values: readonly string[] };

/** Rows read per query while a PingStatus filter (computed, not stored) fills a page. */
const BATCH = 200;

const FILTER_KEYS = [...api.INSTANCE_INFORMATION_FILTER_KEYS, 'tag-key', 'tag:KEY'];

function invalidValue(key: string, value: string, allowed?: readonly string[]): ApiError {
  return new ApiError('InvalidInstanceInformationFilterValue', `${value} is not a value of the ${key} filter${allowed === undefined ? '' : `: use ${allowed.join(', ')}`}.`);
}

function oneOf<T extends string>(key: string, values: readonly string[], allowed: readonly T[]): T[] {
  for (const value of values) if (!(allowed as readonly string[]).includes(value)) throw invalidValue(key, value, allowed);
  return values as T[];
}

/** The filters that are columns. */
const COLUMNS = {
  InstanceIds: 'instance_id',
  AgentVersion: 'agent_version',
  PlatformTypes: 'platform_type',
  ActivationIds: 'activation_id',
  IamRole: 'iam_role',
  ResourceType: 'resource_type',
} as const;

function checkValues(key: keyof typeof COLUMNS, values: readonly string[]): void {
  if (key === 'InstanceIds') {
    for (const value of values) if (!api.INSTANCE_ID.test(value)) throw invalidValue(key, value);
  }
  if (key === 'PlatformTypes') oneOf(key, values, api.PLATFORM_TYPES);
  if (key === 'ResourceType') oneOf(key, values, api.RESOURCE_TYPES);
}

/** Applies the filters to the query; returns the PingStatus values to check after (undefined: any). */
function applyFilters(query: InstanceQuery, filters: readonly Filter[]): { query: InstanceQuery; ping: Set<api.PingStatus> | undefined } {
  let ping: Set<api.PingStatus> | undefined;
  for (const { Key: key, Values: values } of filters) {
    if (key === 'PingStatus') {
      const wanted = new Set(oneOf(key, values, api.PING_STATUSES));
      ping = ping === undefined ? wanted : new Set([...ping].filter((status) => wanted.has(status)));
    } else if (Object.hasOwn(COLUMNS, key)) {
      const column = key as keyof typeof COLUMNS;
      checkValues(column, values);
      query = query.where(COLUMNS[column], 'in', values);
    } else if (key === 'tag-key') {
      query = query.where((eb) => eb.exists(tagged(eb).where('instance_tags.key', 'in', values)));
    } else if (key.startsWith('tag:') && key.length > 4) {
      const tagKey = key.slice(4);
      query = query.where((eb) => eb.exists(tagged(eb).where('instance_tags.key', '=', tagKey).where('instance_tags.value', 'in', values)));
    } else {
      throw new ApiError('InvalidFilterKey', `${key} is not a filter key. Keys: ${FILTER_KEYS.join(', ')}.`);
    }
  }
  return { query, ping };
}

function tagged(eb: ExpressionBuilder<Database, 'instances'>) {
  return eb.selectFrom('instance_tags').select('instance_tags.instance_id').whereRef('instance_tags.instance_id', '=', 'instances.instance_id');
}

/** What DescribeInstanceInformation shows of an instance. */
export function information(services: Services, row: InstancesTable, now: number) {
  const { status, lastPingAt } = services.agents.presence(row, now);
  const platformType = row.platform_type as (typeof api.PLATFORM_TYPES)[number] | null;
  return {
    InstanceId: row.instance_id,
    PingStatus: status,
    ...(lastPingAt === null ? {} : { LastPingDateTime: lastPingAt / 1000 }),
    ...(row.agent_version === null ? {} : { AgentVersion: row.agent_version, IsLatestVersion: isLatestAgentVersion(row.agent_version) }),
    ...(platformType === null ? {} : { PlatformType: platformType }),
    ...(row.platform_name === null ? {} : { PlatformName: row.platform_name }),
    ...(row.platform_version === null ? {} : { PlatformVersion: row.platform_version }),
    ...(row.activation_id === null ? {} : { ActivationId: row.activation_id }),
    ...(row.iam_role === null ? {} : { IamRole: row.iam_role }),
    RegistrationDate: row.registered_at / 1000,
    ResourceType: row.resource_type,
    ...(row.name === null ? {} : { Name: row.name }),
    ...(row.ip_address === null ? {} : { IPAddress: row.ip_address }),
    ...(row.computer_name === null ? {} : { ComputerName: row.computer_name }),
  };
}

async function describeInstanceInformation(input: InputOf<typeof api.DescribeInstanceInformation>, { services, now, principal }: CallContext) {
  if (input.Filters !== undefined && input.InstanceInformationFilterList !== undefined) {
    throw new ApiError('ValidationException', 'Give Filters or InstanceInformationFilterList, not both.');
  }
  const filters: Filter[] = input.Filters ?? (input.InstanceInformationFilterList ?? []).map((filter) => ({ Key: filter.key, Values: filter.valueSet }));
  const { query, ping } = applyFilters(services.db.selectFrom('instances').selectAll().where('account_id', '=', callerAccount(principal)), filters);
  const page = await pageOfInstances(query, { after: decodeToken(input.NextToken), size: input.MaxResults ?? 10, filtered: ping !== undefined }, (rows) =>
    rows.map((row) => {
      const item = information(services, row, now);
      return ping === undefined || ping.has(item.PingStatus) ? item : undefined;
    }),
  );
  return { InstanceInformationList: page.items, ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }) };
}

/**
 * One page of the query's instances, in id order after `after`. `keep` makes each batch of rows
 * into items, undefined for a row left out; `filtered` says that it may leave rows out (then rows
 * are read in batches until the page is full). The token names the page's last instance.
 */
export async function pageOfInstances<T>(
  query: InstanceQuery,
  options: { readonly after: string | undefined; readonly size: number; readonly filtered: boolean },
  keep: (rows: InstancesTable[]) => readonly (T | undefined)[] | Promise<readonly (T | undefined)[]>,
): Promise<{ items: T[]; nextToken?: string }> {
  const { size, filtered } = options;
  let after = options.after;
  const found: { id: string; item: T }[] = [];
  for (;;) {
    const rows = await (after === undefined ? query : query.where('instance_id', '>', after)).orderBy('instance_id').limit(filtered ? BATCH : size + 1).execute();
    const items = await keep(rows);
    for (const [index, row] of rows.entries()) {
      const item = items[index];
      if (item !== undefined) found.push({ id: row.instance_id, item });
      if (found.length > size) break;
    }
    const last = rows[rows.length - 1];
    if (found.length > size || !filtered || rows.length < BATCH || last === undefined) break;
    after = last.instance_id;
  }
  const page = found.slice(0, size);
  const last = page[page.length - 1];
  return { items: page.map((entry) => entry.item), ...(found.length > size && last !== undefined ? { nextToken: encodeToken(last.id) } : {}) };
}

async function getConnectionStatus(input: InputOf<typeof api.GetConnectionStatus>, { services, now, principal }: CallContext) {
  const row = api.INSTANCE_ID.test(input.Target)
    ? await services.db.selectFrom('instances').select(['instance_id', 'deregistered_at', 'last_ping_at', 'connected_node', 'lease_expires_at'])
        .where('instance_id', '=', input.Target)
        .where('account_id', '=', callerAccount(principal))
        .executeTakeFirst()
    : undefined;
  const connected = row !== undefined && services.agents.presence(row, now).status === 'Online';
  return { Target: input.Target, Status: connected ? ('connected' as const) : ('notconnected' as const) };
}

async function deregisterManagedInstance(input: InputOf<typeof api.DeregisterManagedInstance>, { services, now, principal }: CallContext) {
  const row = await services.db
    .selectFrom('instances')
    .select(['instance_id', 'deregistered_at'])
    .where('instance_id', '=', input.InstanceId)
    .where('account_id', '=', callerAccount(principal))
    .executeTakeFirst();
  if (row === undefined) throw new ApiError('InvalidInstanceId', `Instance ${input.InstanceId} is not a registered managed instance.`);
  if (row.deregistered_at !== null) throw new ApiError('InvalidInstanceId', `Instance ${input.InstanceId} was deregistered already.`);
  await services.db
    .updateTable('instances')
    .set({ deregistered_at: now, public_key: null, connected_node: null, connection_id: null })
    .where('instance_id', '=', input.InstanceId)
    .where('deregistered_at', 'is', null)
    .execute();
  services.agents.cutOff(input.InstanceId);
  return {};
}

/* ---------------------------------------------------------------- tags */

type TagTarget = { ResourceType: (typeof api.TAGGABLE_RESOURCE_TYPES)[number]; ResourceId: string };

async function taggable({ services, principal }: CallContext, target: TagTarget, forChange: boolean): Promise<string> {
  if (target.ResourceType !== 'ManagedInstance') {
    throw new ApiError('InvalidResourceType', `Airlock tags ManagedInstance resources; ${target.ResourceType} is not one (yet).`);
  }
  const row = await services.db
    .selectFrom('instances')
    .select(['instance_id', 'deregistered_at'])
    .where('instance_id', '=', target.ResourceId)
    .where('account_id', '=', callerAccount(principal))
    .where('resource_type', '=', 'ManagedInstance')
    .executeTakeFirst();
  if (row === undefined) throw new ApiError('InvalidResourceId', `${target.ResourceId} is not a managed instance.`);
  if (forChange && row.deregistered_at !== null) throw new ApiError('InvalidResourceId', `${target.ResourceId} was deregistered; its tags can no longer change.`);
  return row.instance_id;
}

async function addTagsToResource(input: InputOf<typeof api.AddTagsToResource>, context: CallContext) {
  const { services } = context;
  const instanceId = await taggable(context, input, true);
  const tags = checkTags(input.Tags);
  await services.db.transaction().execute(async (trx) => {
    await putTags(trx, instanceId, tags, (count) => new ApiError('TooManyTagsError', `${instanceId} would have ${count} tags; at most ${api.MAX_TAGS} are allowed.`));
  });
  return {};
}

/** Adds or overwrites an instance's tags, in the caller's transaction; `tooMany` is the refusal past MAX_TAGS in all. */
export async function putTags(trx: Transaction<Database>, instanceId: string, tags: readonly Tag[], tooMany: (count: number) => ApiError): Promise<void> {
  const existing = await trx.selectFrom('instance_tags').select('key').where('instance_id', '=', instanceId).execute();
  const keys = new Set([...existing.map((row) => row.key), ...tags.map((tag) => tag.Key)]);
  if (keys.size > api.MAX_TAGS) throw tooMany(keys.size);
  for (const tag of tags) {
    await trx
      .insertInto('instance_tags')
      .values({ instance_id: instanceId, key: tag.Key, value: tag.Value })
      .onConflict((conflict) => conflict.columns(['instance_id', 'key']).doUpdateSet({ value: tag.Value }))
      .execute();
  }
}

async function removeTagsFromResource(input: InputOf<typeof api.RemoveTagsFromResource>, context: CallContext) {
  const { services } = context;
  const instanceId = await taggable(context, input, true);
  await services.db.deleteFrom('instance_tags').where('instance_id', '=', instanceId).where('key', 'in', input.TagKeys).execute();
  return {};
}

async function listTagsForResource(input: InputOf<typeof api.ListTagsForResource>, context: CallContext) {
  const { services } = context;
  const instanceId = await taggable(context, input, false);
  const rows = await services.db.selectFrom('instance_tags').select(['key', 'value']).where('instance_id', '=', instanceId).orderBy('key').execute();
  return { TagList: rows.map((row) => ({ Key: row.key, Value: row.value })) };
}

export const instanceHandlers = {
  describeInstanceInformation,
  getConnectionStatus,
  deregisterManagedInstance,
  addTagsToResource,
  removeTagsFromResource,
  listTagsForResource,
};
