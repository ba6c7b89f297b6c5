/** Service `portal`: the operations a person uses to sign in and look after their own account. */
import { ApiError, portal as api, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import { associateSoftwareToken, deleteMfaDevice, listMfaDevices, portalUser, verifySoftwareToken } from './mfa-devices.js';
import { MFA_SETTINGS_OPERATIONS } from './mfa-settings.js';
import { verifyPassword } from './passwords.js';
import { revokePortalSession } from './portal-sessions.js';
import { assertNotLocked, initiateAuth, recordFailure, respondToAuthChallenge, setPassword } from './sign-in.js';
import { hashToken } from './tokens.js';
import { findUser } from './users.js';

const BAD_LINK = 'This link is not valid: it may have expired or been used already. Ask an administrator for a new one.';

async function acceptInvitation(input: InputOf<typeof api.AcceptInvitation>, { services, sourceIp, now }: CallContext) {
  await assertNotLocked(services, undefined, sourceIp, now);
  const row = await services.db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where('token_hash', '=', hashToken(input.InvitationToken))
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (row === undefined) {
    await recordFailure(services, undefined, sourceIp, now);
    throw new ApiError('NotAuthorizedException', BAD_LINK);
  }
  const user = await findUser(services.db, row.user_id);
  await setPassword(services, user, input.Password);
  // Single use: a second request with the same token finds nothing to update.
  const used = await services.db.updateTable('one_time_tokens').set({ used_at: now }).where('token_hash', '=', row.token_hash).where('used_at', 'is', null).executeTakeFirst();
  if (used.numUpdatedRows === 0n) throw new ApiError('NotAuthorizedException', BAD_LINK);
  return { UserName: user.user_name };
}

async function changePassword(input: InputOf<typeof api.ChangePassword>, context: CallContext) {
  const { services, sourceIp, now } = context;
  const user = await findUser(services.db, portalUser(context));
  await assertNotLocked(services, user.user_name, sourceIp, now);
  const verdict = user.password_hash === null ? { ok: false } : await verifyPassword(user.password_hash, input.PreviousPassword);
  if (!verdict.ok) {
    await recordFailure(services, user.user_name, sourceIp, now);
    throw new ApiError('NotAuthorizedException', 'Incorrect password: PreviousPassword must be the current password.');
  }
  await setPassword(services, user, input.ProposedPassword);
  return {};
}

async function getSession(context: CallContext) {
  const { principal } = context;
  if (principal.kind !== 'portal') throw new ApiError('UnauthorizedException', 'Sign in to the portal first.');
  const row = await context.services.db.selectFrom('portal_sessions').select(['created_at', 'expires_at']).where('session_id', '=', principal.sessionId).executeTakeFirstOrThrow();
  return { UserName: principal.userName, UserId: principal.userId, MfaAuthenticated: principal.mfa, SignedInAt: row.created_at / 1000, ExpiresAt: row.expires_at / 1000 };
}

export const PORTAL_OPERATIONS: readonly BoundOperation[] = [
  bind(api.InitiateAuth, initiateAuth),
  bind(api.RespondToAuthChallenge, respondToAuthChallenge),
  bind(api.AcceptInvitation, acceptInvitation),
  bind(api.ChangePassword, changePassword),
  bind(api.AssociateSoftwareToken, associateSoftwareToken),
  bind(api.VerifySoftwareToken, verifySoftwareToken),
  bind(api.ListMfaDevices, (_input, context) => listMfaDevices(context)),
  bind(api.DeleteMfaDevice, deleteMfaDevice),
  bind(api.GetSession, (_input, context) => getSession(context)),
  bind(api.SignOut, async (_input, context) => {
    if (context.principal.kind === 'portal') await revokePortalSession(context.services.db, context.principal.sessionId, context.now);
    return {};
  }),
  ...MFA_SETTINGS_OPERATIONS,
];
