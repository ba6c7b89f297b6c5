/** Users as stored and as the Identity Store API shows them. */
import { ApiError, type identitystore, type TypeOf } from '@airlock/protocol';
import type { Selectable } from 'kysely';
import type { Db } from '../storage/db.js';
import type { UsersTable } from '../storage/schema.js';

export type User = TypeOf<typeof identitystore.user>;
/** The profile: every field of User but the ids and the name. */
export type Profile = Omit<User, 'IdentityStoreId' | 'UserId' | 'UserName' | 'ExternalIds'>;
export type UserRow = Selectable<UsersTable>;

export function userOf(row: UserRow, identityStoreId: string): User {
  return { IdentityStoreId: identityStoreId, UserId: row.user_id, UserName: row.user_name, ...(JSON.parse(row.profile) as Profile) };
}

export function primaryEmail(profile: Profile): string | undefined {
  const emails = profile.Emails ?? [];
  return (emails.find((email) => email.Primary === true) ?? emails[0])?.Value;
}

export async function findUser(db: Db, userId: string): Promise<UserRow> {
  const row = await db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `User ${userId} does not exist.`);
  return row;
}

export async function findUserByName(db: Db, userName: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('user_name_key', '=', userName.toLowerCase()).executeTakeFirst();
}
