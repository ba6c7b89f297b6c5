/**
 * Invitations and password resets: a single-use link carrying a 256-bit token, stored only as
 * its hash. The mail goes out inside the caller's transaction, so a user is never left created
 * without the invitation that was asked for.
 */
import { invitationMail, passwordResetMail } from '../mail/templates.js';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import type { OneTimeTokensTable } from '../storage/schema.js';
import { hashToken, newToken } from './tokens.js';
import { primaryEmail, type Profile, type UserRow } from './users.js';

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
export const PASSWORD_RESET_TTL_MS = 24 * 3600 * 1000;

type Purpose = OneTimeTokensTable['purpose'];

export async function sendPasswordSetupLink(db: Db, services: Services, user: UserRow, purpose: Purpose, now: number): Promise<void> {
  const profile = JSON.parse(user.profile) as Profile;
  const to = primaryEmail(profile);
  if (to === undefined) throw new Error(`user ${user.user_id} has no email`);
  const token = newToken('');
  const ttl = purpose === 'invitation' ? INVITATION_TTL_MS : PASSWORD_RESET_TTL_MS;
  const expiresAt = new Date(now + ttl);
  // A new link replaces any earlier one of the same purpose.
  await db.deleteFrom('one_time_tokens').where('user_id', '=', user.user_id).where('purpose', '=', purpose).execute();
  await db
    .insertInto('one_time_tokens')
    .values({ token_hash: hashToken(token), user_id: user.user_id, purpose, expires_at: expiresAt.getTime(), used_at: null, created_at: now })
    .execute();
  const page = purpose === 'invitation' ? 'accept-invitation' : 'reset-password';
  const link = `${services.publicUrl()}/portal/${page}?token=${token}`;
  const common = { userName: user.user_name, link, expiresAt, now: new Date(now) };
  const content =
    purpose === 'invitation'
      ? invitationMail({ ...common, ...(profile.DisplayName === undefined ? {} : { displayName: profile.DisplayName }) })
      : passwordResetMail(common);
  await services.mailer.send({ to, ...content });
}
