/**
 * The SCIM endpoint's bearer tokens: 256-bit random, shown once, stored as SHA-256 hashes,
 * compared in constant time, at most 2 live at a time (so a provider's token can be rotated
 * without a gap), expiring after at most a year. Failed presentations are counted per source
 * address, and an address that keeps failing is locked out for a while.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, scimTokens as api, type InputOf } from '@airlock/protocol';
import { Throttle, type ThrottlePolicy } from '../identity/throttle.js';
import { hashToken, newToken, sameHash } from '../identity/tokens.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import { ScimError } from './errors.js';

export const SCIM_TOKEN_PREFIX = 'alscim_';
const MAX_LIVE_TOKENS = 2;
const DAY_MS = 24 * 3600 * 1000;
/** last_used_at is a hint for rotation, not a log: written at most once a minute per token. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** A provider with a revoked token retries; 20 failures in 15 minutes lock its address for a minute, doubling. */
export const SCIM_ADDRESS_LIMIT: ThrottlePolicy = { maxFailures: 20, baseLockMs: 60_000, maxLockMs: 3_600_000, windowMs: 900_000 };

export const scimEndpoint = (services: Services): string => `${services.publicUrl().replace(/\/+$/, '')}/scim/v2`;

function checkInstance(services: Services, instanceArn: string | undefined): void {
  const arn = `arn:aws:sso:::instance/${services.ssoInstanceId}`;
  if (instanceArn !== undefined && instanceArn !== arn) throw new ApiError('ResourceNotFoundException', `Instance ${instanceArn} does not exist; this server's is ${arn}.`);
}

async function createToken(input: InputOf<typeof api.CreateScimAccessToken>, { services, now }: CallContext) {
  checkInstance(services, input.InstanceArn);
  const token = newToken(SCIM_TOKEN_PREFIX);
  const tokenId = `scim-${randomBytes(8).toString('hex')}`;
  const expiresAt = now + (input.ExpiresInDays ?? 365) * DAY_MS;
  await services.db.transaction().execute(async (trx) => {
    const live = await trx.selectFrom('scim_tokens').select('token_id').where('expires_at', '>', now).execute();
    if (live.length >= MAX_LIVE_TOKENS) {
      throw new ApiError('LimitExceededException', `There are already ${MAX_LIVE_TOKENS} live SCIM tokens (${live.map((row) => row.token_id).join(', ')}): delete one first (DeleteScimAccessToken).`);
    }
    await trx.insertInto('scim_tokens').values({ token_id: tokenId, token_hash: hashToken(token), created_at: now, expires_at: expiresAt, last_used_at: null }).execute();
  });
  return { TokenId: tokenId, AccessToken: token, ScimEndpoint: scimEndpoint(services), CreatedDate: now / 1000, ExpiresDate: expiresAt / 1000 };
}

async function listTokens(input: InputOf<typeof api.ListScimAccessTokens>, { services }: CallContext) {
  checkInstance(services, input.InstanceArn);
  const rows = await services.db.selectFrom('scim_tokens').selectAll().orderBy('created_at').orderBy('token_id').execute();
  return {
    Tokens: rows.map((row) => ({
      TokenId: row.token_id,
      CreatedDate: row.created_at / 1000,
      ExpiresDate: row.expires_at / 1000,
      ...(row.last_used_at === null ? {} : { LastUsedDate: row.last_used_at / 1000 }),
    })),
    ScimEndpoint: scimEndpoint(services),
  };
}

async function deleteToken(input: InputOf<typeof api.DeleteScimAccessToken>, { services }: CallContext) {
  checkInstance(services, input.InstanceArn);
  const deleted = await services.db.deleteFrom('scim_tokens').where('token_id', '=', input.TokenId).executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new ApiError('ResourceNotFoundException', `SCIM token ${input.TokenId} does not exist.`);
  return {};
}

export const SCIM_TOKEN_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateScimAccessToken, createToken),
  bind(api.ListScimAccessTokens, listTokens),
  bind(api.DeleteScimAccessToken, deleteToken),
];

const BEARER = /^Bearer ([A-Za-z0-9_-]+)$/;

/** The id of the live token a request's Authorization header carries; a ScimError (401, 429) otherwise. */
export async function verifyScimToken(services: Services, authorization: string | undefined, sourceIp: string, now: number): Promise<string> {
  const throttle = new Throttle(services.db, SCIM_ADDRESS_LIMIT);
  const key = `scim-address:${sourceIp}`;
  const locked = await throttle.lockedFor(key, now);
  if (locked > 0) throw new ScimError(429, `Too many requests with a wrong SCIM token from this address; retry in ${Math.ceil(locked / 1000)} s.`);
  const token = BEARER.exec(authorization ?? '')?.[1];
  const hash = token === undefined ? undefined : hashToken(token);
  const row = hash === undefined ? undefined : await services.db.selectFrom('scim_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  if (row === undefined || hash === undefined || !sameHash(row.token_hash, hash) || row.expires_at <= now) {
    await throttle.fail(key, now);
    throw new ScimError(401, 'Authorization must be "Bearer <token>" with a live SCIM token (sso:CreateScimAccessToken makes one).');
  }
  if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
    await services.db.updateTable('scim_tokens').set({ last_used_at: now }).where('token_id', '=', row.token_id).execute();
  }
  return row.token_id;
}
