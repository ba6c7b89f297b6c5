/**
 * Hybrid activations and registering with one. An activation is a code (shown once, stored as
 * a hash) that registers up to RegistrationLimit servers until it expires or is deleted. The
 * agent registers with its Ed25519 public key and gets an instance id, `mi-` + 17 hex; the
 * activation's tags are copied to the instance.
 *
 * A registration refused for a wrong code or an unknown activation counts against the caller's
 * address (a guess); after too many the address waits. The limit is taken in one conditional
 * UPDATE, so concurrent registrations never exceed it, on SQLite or PostgreSQL.
 */
import { createHash, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { ApiError, fleet as api, type InputOf } from '@airlock/protocol';
import { Throttle, type ThrottlePolicy } from '../identity/throttle.js';
import { hashToken, sameHash } from '../identity/tokens.js';
import { callerAccount } from '../identity/principal.js';
import type { CallContext } from '../registry/handler.js';
import type { Db } from '../storage/db.js';
import type { ActivationsTable } from '../storage/schema.js';
import { decodeToken, encodeToken } from './paging.js';
import { activationTier, registeredManagedInstances, STANDARD_TIER_LIMIT } from './service-settings.js';
import { insertFirstTags, newInstanceRow } from './new-instance.js';
import { checkTags, type Tag } from './tags.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Wrong codes from one address: 10 in 15 minutes, then a wait from 1 minute, doubling, up to an hour. */
export const REGISTRATION_GUESSES: ThrottlePolicy = { maxFailures: 10, baseLockMs: 60_000, maxLockMs: 3_600_000, windowMs: 900_000 };
const throttleKey = (sourceIp: string): string => `ssm-register:${sourceIp}`;

/** Compared against when the activation does not exist, so that both paths cost the same. */
const NO_CODE = hashToken('no activation');

/** 20 characters, 120 random bits. */
function activationCode(): string {
  return randomBytes(15).toString('base64url');
}

/** `mi-` + 17 hex. */
export function managedInstanceId(): string {
  return `mi-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function createActivation(input: InputOf<typeof api.CreateActivation>, { services, now, principal }: CallContext) {
  const expiresAt = input.ExpirationDate === undefined ? now + DAY_MS : Math.round(input.ExpirationDate * 1000);
  if (expiresAt <= now) throw new ApiError('ValidationException', `ExpirationDate ${iso(expiresAt)} is in the past.`);
  if (expiresAt > now + api.MAX_ACTIVATION_DAYS * DAY_MS) {
    throw new ApiError('ValidationException', `ExpirationDate ${iso(expiresAt)} is more than ${api.MAX_ACTIVATION_DAYS} days away; the latest allowed is ${iso(now + api.MAX_ACTIVATION_DAYS * DAY_MS)}.`);
  }
  const tags = checkTags(input.Tags ?? []);
  const code = activationCode();
  const row: ActivationsTable = {
    activation_id: randomUUID(),
    account_id: callerAccount(principal),
    code_hash: hashToken(code),
    description: input.Description ?? null,
    default_instance_name: input.DefaultInstanceName ?? null,
    iam_role: input.IamRole,
    registration_limit: input.RegistrationLimit ?? 1,
    registrations_count: 0,
    expires_at: expiresAt,
    tags: JSON.stringify(tags),
    created_at: now,
    deleted_at: null,
  };
  await services.db.insertInto('activations').values(row).execute();
  return { ActivationId: row.activation_id, ActivationCode: code };
}

function describe(row: ActivationsTable, now: number) {
  const tags = JSON.parse(row.tags) as Tag[];
  return {
    ActivationId: row.activation_id,
    ...(row.description === null ? {} : { Description: row.description }),
    ...(row.default_instance_name === null ? {} : { DefaultInstanceName: row.default_instance_name }),
    IamRole: row.iam_role,
    RegistrationLimit: row.registration_limit,
    RegistrationsCount: row.registrations_count,
    ExpirationDate: row.expires_at / 1000,
    Expired: row.expires_at <= now,
    CreatedDate: row.created_at / 1000,
    ...(tags.length === 0 ? {} : { Tags: tags }),
  };
}

async function describeActivations(input: InputOf<typeof api.DescribeActivations>, { services, now, principal }: CallContext) {
  const size = input.MaxResults ?? 50;
  const after = decodeToken(input.NextToken);
  let query = services.db.selectFrom('activations').selectAll().where('account_id', '=', callerAccount(principal)).where('deleted_at', 'is', null).orderBy('activation_id').limit(size + 1);
  if (after !== undefined) query = query.where('activation_id', '>', after);
  for (const filter of input.Filters ?? []) {
    const column = filter.FilterKey === 'ActivationIds' ? 'activation_id' : filter.FilterKey === 'DefaultInstanceName' ? 'default_instance_name' : 'iam_role';
    query = query.where(column, 'in', filter.FilterValues);
  }
  const rows = await query.execute();
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return {
    ActivationList: items.map((row) => describe(row, now)),
    ...(rows.length > size && last !== undefined ? { NextToken: encodeToken(last.activation_id) } : {}),
  };
}

async function deleteActivation(input: InputOf<typeof api.DeleteActivation>, { services, now, principal }: CallContext) {
  const result = await services.db
    .updateTable('activations')
    .set({ deleted_at: now })
    .where('activation_id', '=', input.ActivationId)
    .where('account_id', '=', callerAccount(principal))
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new ApiError('InvalidActivationId', `Activation ${input.ActivationId} does not exist (or was deleted already).`);
  return {};
}

/** The agent's key: base64 SPKI DER of an Ed25519 public key. Returns the DER's SHA-256. */
export function checkPublicKey(text: string): string {
  const der = Buffer.from(text, 'base64');
  let ok = der.toString('base64') === text;
  try {
    ok &&= createPublicKey({ key: der, format: 'der', type: 'spki' }).asymmetricKeyType === 'ed25519';
  } catch {
    ok = false;
  }
  if (!ok) throw new ApiError('InvalidPublicKey', 'PublicKey must be the base64 of an Ed25519 public key in SPKI DER form (44 bytes).');
  return createHash('sha256').update(der).digest('hex');
}

/** Why an activation takes no more registrations, as the error that says so. */
function refusal(row: Pick<ActivationsTable, 'activation_id' | 'deleted_at' | 'expires_at' | 'registration_limit' | 'registrations_count'>, now: number): ApiError | undefined {
  if (row.deleted_at !== null) return new ApiError('InvalidActivation', `Activation ${row.activation_id} was deleted; ask for a new activation.`);
  if (row.expires_at <= now) return new ApiError('ActivationExpired', `Activation ${row.activation_id} expired at ${iso(row.expires_at)}; ask for a new activation.`);
  if (row.registrations_count >= row.registration_limit) {
    return new ApiError(
      'RegistrationLimitExceeded',
      `Activation ${row.activation_id} has registered ${row.registrations_count} instance${row.registrations_count === 1 ? '' : 's'}, its RegistrationLimit; ask for a new activation.`,
    );
  }
  return undefined;
}

async function registerManagedInstance(input: InputOf<typeof api.RegisterManagedInstance>, { services, now, sourceIp }: CallContext) {
  const keyHash = checkPublicKey(input.PublicKey);
  const guesses = new Throttle(services.db, REGISTRATION_GUESSES);
  const key = throttleKey(sourceIp);
  if ((await guesses.count(key, now)) === 'locked') {
    const wait = Math.max(1, Math.ceil((await guesses.lockedFor(key, now)) / 1000));
    throw new ApiError('ThrottlingException', `Too many failed registrations from this address; try again in ${wait} seconds.`);
  }
  const activation = await services.db.selectFrom('activations').selectAll().where('activation_id', '=', input.ActivationId).executeTakeFirst();
  const codeMatches = sameHash(hashToken(input.ActivationCode), activation?.code_hash ?? NO_CODE);
  if (activation === undefined || !codeMatches) {
    throw new ApiError('InvalidActivation', 'The ActivationId and ActivationCode do not match an activation: check both (the code is case-sensitive).');
  }
  // The code was right: this attempt was no guess.
  await guesses.forgive(key);
  const early = refusal(activation, now);
  if (early !== undefined) throw early;
  const tier = await activationTier(services.db);
  const instanceId = managedInstanceId();
  await services.db.transaction().execute(async (trx) => {
    const clash = await trx.selectFrom('instances').select('instance_id').where('public_key_hash', '=', keyHash).executeTakeFirst();
    if (clash !== undefined) throw new ApiError('InstanceAlreadyRegistered', `This public key is already registered (${clash.instance_id}); register with a new key pair.`);
    if (tier === 'standard') await checkStandardTier(trx);
    const taken = await trx
      .updateTable('activations')
      .set((eb) => ({ registrations_count: eb('registrations_count', '+', 1) }))
      .where('activation_id', '=', activation.activation_id)
      .where('deleted_at', 'is', null)
      .where('expires_at', '>', now)
      .whereRef('registrations_count', '<', 'registration_limit')
      .executeTakeFirst();
    if (taken.numUpdatedRows === 0n) {
      // Another registration (or a deletion) got there first: say which.
      const current = await trx.selectFrom('activations').selectAll().where('activation_id', '=', activation.activation_id).executeTakeFirstOrThrow();
      throw refusal(current, now) ?? new ApiError('RegistrationLimitExceeded', `Activation ${activation.activation_id} takes no more registrations.`);
    }
    await trx
      .insertInto('instances')
      .values(
        newInstanceRow({
          instance_id: instanceId,
          resource_type: 'ManagedInstance',
          account_id: activation.account_id,
          region: null,
          activation_id: activation.activation_id,
          iam_role: activation.iam_role,
          name: activation.default_instance_name,
          fingerprint: input.Fingerprint,
          public_key: input.PublicKey,
          public_key_hash: keyHash,
          registered_at: now,
        }),
      )
      .execute();
    await insertFirstTags(trx, instanceId, JSON.parse(activation.tags) as Tag[]);
  });
  return { InstanceId: instanceId };
}

/** The standard tier holds at most 1,000 registered managed instances. */
async function checkStandardTier(db: Db): Promise<void> {
  if ((await registeredManagedInstances(db)) >= STANDARD_TIER_LIMIT) {
    throw new ApiError(
      'RegistrationLimitExceeded',
      `The standard activation tier holds ${STANDARD_TIER_LIMIT} managed instances, and they are all registered: deregister some, or switch ${api.ACTIVATION_TIER_SETTING} to advanced (ssm update-service-setting).`,
    );
  }
}

export const activationHandlers = { createActivation, describeActivations, deleteActivation, registerManagedInstance };
