/**
 * The device authorization grant (RFC 8628) behind `airlock login`: the CLI gets a device code
 * and a short user code; the person, signed in to the portal, approves the user code; the CLI's
 * next poll receives a portal session of its own, with the approver's MFA standing.
 */
import { randomInt } from 'node:crypto';
import { ApiError, portal as api, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import { portalUser } from './mfa-devices.js';
import { createPortalSession, PORTAL_SESSION_TTL_MS } from './portal-sessions.js';
import { assertNotLocked, recordFailure } from './sign-in.js';
import { hashToken, newToken } from './tokens.js';

export const DEVICE_CODE_TTL_MS = 10 * 60 * 1000;
export const POLL_INTERVAL_S = 5;
/** No vowels or look-alikes: codes neither spell words nor get misread. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';

function userCode(): string {
  return Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join('');
}

/** `bcdf-ghjk`, `BCDFGHJK` and `BCDF GHJK` are all the same code. */
const normalize = (code: string): string => code.toUpperCase().replace(/[^A-Z]/g, '');

async function start(input: InputOf<typeof api.StartDeviceAuthorization>, { services, now }: CallContext) {
  const deviceCode = newToken('');
  const code = userCode();
  await services.db
    .insertInto('device_authorizations')
    .values({
      device_code_hash: hashToken(deviceCode),
      user_code: code,
      client_name: input.ClientName ?? null,
      approved_user_id: null,
      approved_mfa: 0,
      last_poll_at: 0,
      expires_at: now + DEVICE_CODE_TTL_MS,
    })
    .execute();
  const shown = `${code.slice(0, 4)}-${code.slice(4)}`;
  const uri = `${services.publicUrl()}/portal/device`;
  return {
    DeviceCode: deviceCode,
    UserCode: shown,
    VerificationUri: uri,
    VerificationUriComplete: `${uri}?user_code=${shown}`,
    ExpiresIn: DEVICE_CODE_TTL_MS / 1000,
    Interval: POLL_INTERVAL_S,
  };
}

async function approve(input: InputOf<typeof api.ApproveDeviceAuthorization>, context: CallContext) {
  const { services, now, sourceIp, principal } = context;
  const userId = portalUser(context);
  await assertNotLocked(services, undefined, sourceIp, now);
  const row = await services.db
    .selectFrom('device_authorizations')
    .selectAll()
    .where('user_code', '=', normalize(input.UserCode))
    .where('expires_at', '>', now)
    .where('approved_user_id', 'is', null)
    .executeTakeFirst();
  if (row === undefined) {
    await recordFailure(services, undefined, sourceIp, now);
    throw new ApiError('ResourceNotFoundException', 'No sign-in is waiting for that code: check it, or run airlock login again.');
  }
  await services.db
    .updateTable('device_authorizations')
    .set({ approved_user_id: userId, approved_mfa: principal.kind === 'portal' && principal.mfa ? 1 : 0 })
    .where('device_code_hash', '=', row.device_code_hash)
    .execute();
  return row.client_name === null ? {} : { ClientName: row.client_name };
}

async function createToken(input: InputOf<typeof api.CreateToken>, { services, now }: CallContext) {
  const hash = hashToken(input.DeviceCode);
  const row = await services.db.selectFrom('device_authorizations').selectAll().where('device_code_hash', '=', hash).executeTakeFirst();
  if (row === undefined || row.expires_at <= now) throw new ApiError('ExpiredTokenException', 'The device code has expired or was used; run airlock login again.');
  if (row.approved_user_id === null) {
    const tooSoon = now - row.last_poll_at < POLL_INTERVAL_S * 1000;
    await services.db.updateTable('device_authorizations').set({ last_poll_at: now }).where('device_code_hash', '=', hash).execute();
    if (tooSoon) throw new ApiError('SlowDownException', `Poll at most every ${POLL_INTERVAL_S} seconds.`);
    throw new ApiError('AuthorizationPendingException', 'Waiting for the code to be approved in the portal.');
  }
  // Collected once: deleting the row first means a second poll cannot mint a second session.
  const deleted = await services.db.deleteFrom('device_authorizations').where('device_code_hash', '=', hash).executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new ApiError('ExpiredTokenException', 'The device code was already used; run airlock login again.');
  const { token } = await createPortalSession(services.db, row.approved_user_id, row.approved_mfa === 1, now);
  return { AccessToken: token, ExpiresIn: PORTAL_SESSION_TTL_MS / 1000, TokenType: 'Bearer' as const };
}

export const DEVICE_AUTHORIZATION_OPERATIONS: readonly BoundOperation[] = [
  bind(api.StartDeviceAuthorization, start),
  bind(api.ApproveDeviceAuthorization, approve),
  bind(api.CreateToken, createToken),
];
