/**
 * After any external source vouched for someone: their Airlock user, made just in time or
 * updated from what the source says, their group memberships made equal to the source's
 * groups (so a person removed from a group at the source loses its permission sets at the
 * next sign-in), then the rest of sign-in (Airlock's MFA unless the source's counts).
 */
import { randomUUID } from 'node:crypto';
import { ApiError, identitystore, validate, type OutputOf, type portal } from '@airlock/protocol';
import type { Services } from '../../services.js';
import type { Db } from '../../storage/db.js';
import { continueSignIn } from '../sign-in.js';
import { findUser, findUserByName, type Profile, type UserRow } from '../users.js';
import type { ExternalIdentity } from './source.js';

type AuthOutput = OutputOf<typeof portal.InitiateAuth>;

/** Makes or updates the user and syncs their groups; refuses to take over a built-in user. */
export async function upsertExternalUser(services: Services, sourceKey: string, identity: ExternalIdentity, now: number): Promise<UserRow> {
  if (validate(identitystore.userName, identity.userName).length > 0) {
    throw new ApiError('NotAuthorizedException', 'The identity source sent a user name Airlock cannot use (1–128 letters, digits, symbols, no spaces). Check the UserName attribute mapping.');
  }
  const userId = await services.db.transaction().execute(async (trx) => {
    const linked = await trx.selectFrom('external_users').select('user_id').where('source_key', '=', sourceKey).where('subject', '=', identity.subject).executeTakeFirst();
    const id = linked?.user_id ?? (await linkByName(trx, sourceKey, identity, now));
    await trx.updateTable('external_users').set({ last_sign_in_at: now }).where('user_id', '=', id).execute();
    const row = await findUser(trx, id);
    await trx.updateTable('users').set({ profile: JSON.stringify(profileFrom(JSON.parse(row.profile) as Profile, identity)), email_key: identity.email?.toLowerCase() ?? null, updated_at: now }).where('user_id', '=', id).execute();
    await syncGroups(trx, id, identity.groups, now);
    return id;
  });
  // Memberships changed outside the API's write path: the access checks' caches must see them.
  services.changes.bump();
  return findUser(services.db, userId);
}

/**
 * A first sign-in: a user of that name is linked if the source may own it, else made. It may
 * own a user without a password (made ahead of time by `airlock apply` or SCIM, or by a source
 * set before this one: only one source is in force, so such a link is stale and moves here),
 * but never one this source already links to another subject.
 */
async function linkByName(trx: Db, sourceKey: string, identity: ExternalIdentity, now: number): Promise<string> {
  const existing = await findUserByName(trx, identity.userName);
  if (existing !== undefined) {
    const link = await trx.selectFrom('external_users').select('source_key').where('user_id', '=', existing.user_id).executeTakeFirst();
    if (existing.password_hash !== null || link?.source_key === sourceKey) {
      throw new ApiError(
        'NotAuthorizedException',
        `An Airlock user named ${identity.userName} already exists and signs in another way; the identity source cannot take it over. An administrator can delete or rename that user.`,
      );
    }
    if (link !== undefined) await trx.deleteFrom('external_users').where('user_id', '=', existing.user_id).execute();
  }
  const userId = existing?.user_id ?? randomUUID();
  if (existing === undefined) {
    await trx
      .insertInto('users')
      .values({ user_id: userId, user_name: identity.userName, user_name_key: identity.userName.toLowerCase(), email_key: null, profile: '{}', password_hash: null, password_must_change: 0, created_at: now, updated_at: now })
      .execute();
  }
  await trx.insertInto('external_users').values({ source_key: sourceKey, subject: identity.subject, user_id: userId, last_sign_in_at: now }).execute();
  return userId;
}

/** The profile with what the source says; what it does not say stays as it was. */
function profileFrom(before: Profile, identity: ExternalIdentity): Profile {
  const profile: Profile = { ...before };
  if (identity.email !== undefined) profile.Emails = [{ Value: identity.email, Type: 'work', Primary: true }];
  if (identity.displayName !== undefined) profile.DisplayName = identity.displayName;
  if (identity.givenName !== undefined || identity.familyName !== undefined) {
    profile.Name = { ...before.Name, ...(identity.givenName === undefined ? {} : { GivenName: identity.givenName }), ...(identity.familyName === undefined ? {} : { FamilyName: identity.familyName }) };
  }
  if (Object.keys(identity.tags).length > 0) profile.Attributes = { ...before.Attributes, ...identity.tags };
  return profile;
}

/** Memberships become exactly the source's groups that exist in Airlock (matched by name, without case). */
async function syncGroups(trx: Db, userId: string, groupNames: readonly string[], now: number): Promise<void> {
  const keys = [...new Set(groupNames.map((name) => name.toLowerCase()))];
  const wanted = keys.length === 0 ? [] : await trx.selectFrom('groups').select('group_id').where('display_name_key', 'in', keys).execute();
  const wantedIds = new Set(wanted.map((row) => row.group_id));
  const current = await trx.selectFrom('memberships').select(['membership_id', 'group_id']).where('user_id', '=', userId).execute();
  const stale = current.filter((row) => !wantedIds.has(row.group_id)).map((row) => row.membership_id);
  if (stale.length > 0) await trx.deleteFrom('memberships').where('membership_id', 'in', stale).execute();
  const have = new Set(current.map((row) => row.group_id));
  for (const groupId of wantedIds) {
    if (!have.has(groupId)) await trx.insertInto('memberships').values({ membership_id: randomUUID(), group_id: groupId, user_id: userId, created_at: now }).execute();
  }
}

/** The whole external sign-in: the user, then the portal session or Airlock's MFA challenge. */
export async function signInExternal(services: Services, sourceKey: string, identity: ExternalIdentity, now: number): Promise<AuthOutput> {
  const user = await upsertExternalUser(services, sourceKey, identity, now);
  return continueSignIn(services, user, identity.mfa, now);
}
