/** Service `portal`: the operations a person uses to sign in and look after their own account. */
import { ApiError, portal as api, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import { associateSoftwareToken, deleteMfaDevice, listMfaDevices, portalUser, verifySoftwareToken } from './mfa-devices.js';
import { MFA_SETTINGS_OPERATIONS } from './mfa-settings.js';
import { completeWebAuthnRegistration, startWebAuthnRegistration } from './webauthn.js';
import { verifyPassword } from './passwords.js';
import { revokePortalSession } from './portal-sessions.js';
import { IDENTITY_SOURCE_OPERATIONS } from './sources/operations.js';
import { signInWithPassword } from './sources/password-sign-in.js';
import { assertCanCheckPassword, guarded, preparePassword, respondToAuthChallenge, setPassword, storePassword } from './sign-in.js';
import { hashToken } from './tokens.js';
import { findUser } from './users.js';

const BAD_LINK = 'This link is not valid: it may have expired or been used already. Ask an administrator for a new one.';

/** The link's token row while it may still be used; a wrong token counts against the caller's address, as a wrong password does. */
async function liveInvitation(token: string, { services, sourceIp, now }: CallContext) {
  const row = await services.db.selectFrom('one_time_tokens').selectAll().where('token_hash', '=', hashToken(token)).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
  if (!(await guarded(services, undefined, sourceIp, now, () => Promise.resolve(row !== undefined))) || row === undefined) {
    throw new ApiError('NotAuthorizedException', BAD_LINK);
  }
  return row;
}

async function describeInvitation(input: InputOf<typeof api.DescribeInvitation>, context: CallContext) {
  const row = await liveInvitation(input.InvitationToken, context);
  const user = await findUser(context.services.db, row.user_id);
  return { UserName: user.user_name, ExpiresAt: row.expires_at / 1000 };
}

async function acceptInvitation(input: InputOf<typeof api.AcceptInvitation>, context: CallContext) {
  const { services, now } = context;
  const tokenHash = hashToken(input.InvitationToken);
  const row = await liveInvitation(input.InvitationToken, context);
  const user = await findUser(services.db, row.user_id);
  const passwordHash = await preparePassword(user, input.Password);
  // Single use: the link is claimed and the password stored together; of two requests at
  // once, only the one that claims the link sets its password.
  await services.db.transaction().execute(async (trx) => {
    const claimed = await trx.updateTable('one_time_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
    if (claimed.numUpdatedRows === 0n) throw new ApiError('NotAuthorizedException', BAD_LINK);
    await storePassword(services, user.user_id, passwordHash, trx);
  });
  return { UserName: user.user_name };
}

async function changePassword(input: InputOf<typeof api.ChangePassword>, context: CallContext) {
  const { services, sourceIp, now } = context;
  const user = await findUser(services.db, portalUser(context));
  const hash = user.password_hash;
  assertCanCheckPassword();
  const ok = await guarded(services, user.user_name, sourceIp, now, async () => hash !== null && (await verifyPassword(hash, input.PreviousPassword)).ok);
  if (!ok) throw new ApiError('NotAuthorizedException', 'Incorrect password: PreviousPassword must be the current password.');
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
  bind(api.InitiateAuth, signInWithPassword),
  bind(api.RespondToAuthChallenge, respondToAuthChallenge),
  bind(api.AcceptInvitation, acceptInvitation),
  bind(api.DescribeInvitation, describeInvitation),
  bind(api.ChangePassword, changePassword),
  bind(api.AssociateSoftwareToken, associateSoftwareToken),
  bind(api.VerifySoftwareToken, verifySoftwareToken),
  bind(api.StartWebAuthnRegistration, startWebAuthnRegistration),
  bind(api.CompleteWebAuthnRegistration, completeWebAuthnRegistration),
  bind(api.ListMfaDevices, (_input, context) => listMfaDevices(context)),
  bind(api.DeleteMfaDevice, deleteMfaDevice),
  bind(api.GetSession, (_input, context) => getSession(context)),
  bind(api.SignOut, async (_input, context) => {
    if (context.principal.kind === 'portal') await revokePortalSession(context.services.db, context.principal.sessionId, context.now);
    return {};
  }),
  ...MFA_SETTINGS_OPERATIONS,
  ...IDENTITY_SOURCE_OPERATIONS,
];
