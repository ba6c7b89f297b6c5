/**
 * Service `identitystore`: the directory of users, groups and memberships, as AWS's Identity
 * Store API behaves. Names are unique without regard to case; deleting a user or group removes
 * its memberships.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ApiError, identitystore as api, validate, type InputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import type { GroupsTable } from '../storage/schema.js';
import { sendPasswordSetupLink } from './invitations.js';
import { deleteMfaDeviceForUser, listMfaDevicesForUser } from './mfa-devices.js';
import { hashPassword } from './passwords.js';
import { decodeNextToken, DEFAULT_PAGE_SIZE, page } from './paging.js';
import { findUser, findUserByName, primaryEmail, userOf, type Profile, type User } from './users.js';

type GroupRow = GroupsTable;

function checkStore(services: Services, input: { IdentityStoreId?: string }): void {
  if (input.IdentityStoreId !== undefined && input.IdentityStoreId !== services.identityStoreId) {
    throw new ApiError('ResourceNotFoundException', `Identity store ${input.IdentityStoreId} does not exist; this server's is ${services.identityStoreId}.`);
  }
}

/** Wraps a handler with the IdentityStoreId check every identitystore operation makes. */
function inStore<I extends { IdentityStoreId?: string }, O>(handler: (input: I, context: CallContext) => Promise<O>) {
  return (input: I, context: CallContext): Promise<O> => {
    checkStore(context.services, input);
    return handler(input, context);
  };
}

const ONE_TIME_PASSWORD_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';

/** 20 characters from an unambiguous alphabet: ~114 bits, easy to read aloud. */
function oneTimePassword(): string {
  const bytes = randomBytes(20);
  return Array.from(bytes, (byte) => ONE_TIME_PASSWORD_ALPHABET[byte % ONE_TIME_PASSWORD_ALPHABET.length]).join('');
}

const profileOf = (input: InputOf<typeof api.CreateUser>): Profile => {
  const { IdentityStoreId: _store, UserName: _name, PasswordSetup: _setup, ...profile } = input;
  return profile;
};

async function createUser(input: InputOf<typeof api.CreateUser>, { services, now }: CallContext) {
  const profile = profileOf(input);
  const email = primaryEmail(profile);
  const setup = input.PasswordSetup ?? (email === undefined ? 'NONE' : 'EMAIL_INVITATION');
  if (setup === 'EMAIL_INVITATION' && email === undefined) {
    throw new ApiError('ValidationException', 'PasswordSetup EMAIL_INVITATION needs an email: give Emails, or use ONE_TIME_PASSWORD.');
  }
  const oneTime = setup === 'ONE_TIME_PASSWORD' ? oneTimePassword() : undefined;
  const passwordHash = oneTime === undefined ? null : await hashPassword(oneTime);
  const userId = randomUUID();
  await services.db.transaction().execute(async (trx) => {
    const clash = await findUserByName(trx, input.UserName);
    if (clash !== undefined) {
      throw new ApiError('ConflictException', `Duplicate UserName: the user ${clash.user_name} exists (names are compared without case).`);
    }
    const row = {
      user_id: userId,
      user_name: input.UserName,
      user_name_key: input.UserName.toLowerCase(),
      email_key: email?.toLowerCase() ?? null,
      profile: JSON.stringify(profile),
      password_hash: passwordHash,
      password_must_change: oneTime === undefined ? 0 : 1,
      created_at: now,
      updated_at: now,
      disabled_at: null,
      scim_external_id: null,
    };
    await trx.insertInto('users').values(row).execute();
    if (setup === 'EMAIL_INVITATION') await sendPasswordSetupLink(trx, services, row, 'invitation', now);
  });
  return { UserId: userId, IdentityStoreId: services.identityStoreId, ...(oneTime === undefined ? {} : { OneTimePassword: oneTime }) };
}

const capitalize = (segment: string): string => segment.charAt(0).toUpperCase() + segment.slice(1);

/**
 * `name.givenName` → ['Name', 'GivenName']: Identity Store's attribute paths are lower camel.
 * The keys of Attributes are the customer's own and keep their spelling.
 */
function attributePath(path: string): string[] {
  const [head = '', ...rest] = path.split('.');
  const field = capitalize(head);
  return [field, ...(field === 'Attributes' ? rest : rest.map(capitalize))];
}

const IMMUTABLE = new Set(['UserId', 'UserName', 'IdentityStoreId', 'ExternalIds', 'GroupId']);

function applyOperations<T extends Record<string, unknown>>(target: T, operations: InputOf<typeof api.UpdateUser>['Operations']): T {
  const result: Record<string, unknown> = structuredClone(target);
  for (const { AttributePath, AttributeValue } of operations) {
    const [head, ...rest] = attributePath(AttributePath);
    if (head === undefined || head === '' || rest.length > 1) throw new ApiError('ValidationException', `AttributePath ${AttributePath} is not an attribute.`);
    if (IMMUTABLE.has(head)) throw new ApiError('ValidationException', `${head} cannot be changed.`);
    const sub = rest[0];
    if (sub === undefined) {
      if (AttributeValue === undefined || AttributeValue === null) Reflect.deleteProperty(result, head);
      else result[head] = AttributeValue;
      continue;
    }
    const parent = (result[head] ?? {}) as Record<string, unknown>;
    if (AttributeValue === undefined || AttributeValue === null) Reflect.deleteProperty(parent, sub);
    else parent[sub] = AttributeValue;
    result[head] = parent;
  }
  return result as T;
}

function assertValid(shape: Parameters<typeof validate>[0], value: unknown): void {
  const problems = validate(shape, value);
  if (problems.length > 0) throw new ApiError('ValidationException', problems.map((problem) => problem.message).join(' '));
}

async function updateUser(input: InputOf<typeof api.UpdateUser>, { services, now }: CallContext) {
  await services.db.transaction().execute(async (trx) => {
    const row = await findUser(trx, input.UserId);
    const updated: User = applyOperations(userOf(row, services.identityStoreId), input.Operations);
    assertValid(api.user, updated);
    const { IdentityStoreId: _store, UserId: _id, UserName: _name, ExternalIds: _external, ...profile } = updated;
    await trx
      .updateTable('users')
      .set({ profile: JSON.stringify(profile), email_key: primaryEmail(profile)?.toLowerCase() ?? null, updated_at: now })
      .where('user_id', '=', row.user_id)
      .execute();
  });
  return {};
}

async function listUsers(input: InputOf<typeof api.ListUsers>, { services }: CallContext) {
  const size = input.MaxResults ?? DEFAULT_PAGE_SIZE;
  const after = decodeNextToken(input.NextToken);
  let query = services.db.selectFrom('users').selectAll().orderBy('user_name_key').limit(size + 1);
  for (const filter of input.Filters ?? []) {
    if (filter.AttributePath.toLowerCase() !== 'username') throw new ApiError('ValidationException', `ListUsers filters on UserName only, not ${filter.AttributePath}.`);
    query = query.where('user_name_key', '=', filter.AttributeValue.toLowerCase());
  }
  if (after !== undefined) query = query.where('user_name_key', '>', after);
  const { items, nextToken } = page(await query.execute(), size, (row) => row.user_name_key);
  return { Users: items.map((row) => userOf(row, services.identityStoreId)), ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

async function getUserId(input: InputOf<typeof api.GetUserId>, { services }: CallContext) {
  const unique = input.AlternateIdentifier.UniqueAttribute;
  if (unique === undefined || typeof unique.AttributeValue !== 'string') {
    throw new ApiError('ValidationException', 'Give AlternateIdentifier.UniqueAttribute with AttributePath UserName or emails.value and a string AttributeValue.');
  }
  const value = unique.AttributeValue.toLowerCase();
  const path = unique.AttributePath.toLowerCase();
  const column = path === 'username' ? 'user_name_key' : path === 'emails.value' ? 'email_key' : undefined;
  if (column === undefined) throw new ApiError('ValidationException', `GetUserId looks users up by UserName or emails.value, not ${unique.AttributePath}.`);
  const row = await services.db.selectFrom('users').select('user_id').where(column, '=', value).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `No user has ${unique.AttributePath} ${unique.AttributeValue}.`);
  return { UserId: row.user_id, IdentityStoreId: services.identityStoreId };
}

async function findGroup(db: Db, groupId: string): Promise<GroupRow> {
  const row = await db.selectFrom('groups').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `Group ${groupId} does not exist.`);
  return row;
}

function groupOf(row: GroupRow, identityStoreId: string) {
  return {
    IdentityStoreId: identityStoreId,
    GroupId: row.group_id,
    DisplayName: row.display_name,
    ...(row.description === null ? {} : { Description: row.description }),
  };
}

export async function assertGroupNameFree(db: Db, displayName: string, except?: string): Promise<void> {
  const clash = await db.selectFrom('groups').select(['group_id', 'display_name']).where('display_name_key', '=', displayName.toLowerCase()).executeTakeFirst();
  if (clash !== undefined && clash.group_id !== except) {
    throw new ApiError('ConflictException', `Duplicate DisplayName: the group ${clash.display_name} exists (names are compared without case).`);
  }
}

async function createGroup(input: InputOf<typeof api.CreateGroup>, { services, now }: CallContext) {
  const groupId = randomUUID();
  await services.db.transaction().execute(async (trx) => {
    await assertGroupNameFree(trx, input.DisplayName);
    await trx
      .insertInto('groups')
      .values({ group_id: groupId, display_name: input.DisplayName, display_name_key: input.DisplayName.toLowerCase(), description: input.Description ?? null, created_at: now })
      .execute();
  });
  return { GroupId: groupId, IdentityStoreId: services.identityStoreId };
}

async function updateGroup(input: InputOf<typeof api.UpdateGroup>, { services }: CallContext) {
  await services.db.transaction().execute(async (trx) => {
    const row = await findGroup(trx, input.GroupId);
    const updated: { DisplayName?: string; Description?: string } = applyOperations(groupOf(row, services.identityStoreId), input.Operations);
    assertValid(api.DescribeGroup.output, updated);
    const displayName = updated.DisplayName;
    if (displayName === undefined) throw new ApiError('ValidationException', 'A group must keep a DisplayName.');
    await assertGroupNameFree(trx, displayName, row.group_id);
    await trx
      .updateTable('groups')
      .set({ display_name: displayName, display_name_key: displayName.toLowerCase(), description: updated.Description ?? null })
      .where('group_id', '=', row.group_id)
      .execute();
  });
  return {};
}

async function listGroups(input: InputOf<typeof api.ListGroups>, { services }: CallContext) {
  const size = input.MaxResults ?? DEFAULT_PAGE_SIZE;
  const after = decodeNextToken(input.NextToken);
  let query = services.db.selectFrom('groups').selectAll().orderBy('display_name_key').limit(size + 1);
  for (const filter of input.Filters ?? []) {
    if (filter.AttributePath.toLowerCase() !== 'displayname') throw new ApiError('ValidationException', `ListGroups filters on DisplayName only, not ${filter.AttributePath}.`);
    query = query.where('display_name_key', '=', filter.AttributeValue.toLowerCase());
  }
  if (after !== undefined) query = query.where('display_name_key', '>', after);
  const { items, nextToken } = page(await query.execute(), size, (row) => row.display_name_key);
  return { Groups: items.map((row) => groupOf(row, services.identityStoreId)), ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

async function getGroupId(input: InputOf<typeof api.GetGroupId>, { services }: CallContext) {
  const unique = input.AlternateIdentifier.UniqueAttribute;
  // Paths without regard to case, as GetUserId's: AWS documents displayName, its API shows DisplayName.
  if (unique?.AttributePath.toLowerCase() !== 'displayname' || typeof unique.AttributeValue !== 'string') {
    throw new ApiError('ValidationException', 'Give AlternateIdentifier.UniqueAttribute with AttributePath displayName and a string AttributeValue.');
  }
  const row = await services.db.selectFrom('groups').select('group_id').where('display_name_key', '=', unique.AttributeValue.toLowerCase()).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `No group has DisplayName ${unique.AttributeValue}.`);
  return { GroupId: row.group_id, IdentityStoreId: services.identityStoreId };
}

interface MembershipRow {
  membership_id: string;
  group_id: string;
  user_id: string;
}

function membershipOf(row: MembershipRow, identityStoreId: string) {
  return { IdentityStoreId: identityStoreId, MembershipId: row.membership_id, GroupId: row.group_id, MemberId: { UserId: row.user_id } };
}

async function findMembership(db: Db, membershipId: string): Promise<MembershipRow> {
  const row = await db.selectFrom('memberships').select(['membership_id', 'group_id', 'user_id']).where('membership_id', '=', membershipId).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `Membership ${membershipId} does not exist.`);
  return row;
}

async function createGroupMembership(input: InputOf<typeof api.CreateGroupMembership>, { services, now }: CallContext) {
  const membershipId = randomUUID();
  await services.db.transaction().execute(async (trx) => {
    await findGroup(trx, input.GroupId);
    await findUser(trx, input.MemberId.UserId);
    const existing = await trx.selectFrom('memberships').select('membership_id').where('group_id', '=', input.GroupId).where('user_id', '=', input.MemberId.UserId).executeTakeFirst();
    if (existing !== undefined) throw new ApiError('ConflictException', `User ${input.MemberId.UserId} is already in group ${input.GroupId} (membership ${existing.membership_id}).`);
    await trx.insertInto('memberships').values({ membership_id: membershipId, group_id: input.GroupId, user_id: input.MemberId.UserId, created_at: now }).execute();
  });
  return { MembershipId: membershipId, IdentityStoreId: services.identityStoreId };
}

async function listMemberships(services: Services, column: 'group_id' | 'user_id', id: string, input: { MaxResults?: number; NextToken?: string }) {
  const size = input.MaxResults ?? DEFAULT_PAGE_SIZE;
  const after = decodeNextToken(input.NextToken);
  let query = services.db.selectFrom('memberships').select(['membership_id', 'group_id', 'user_id']).where(column, '=', id).orderBy('membership_id').limit(size + 1);
  if (after !== undefined) query = query.where('membership_id', '>', after);
  const { items, nextToken } = page(await query.execute(), size, (row) => row.membership_id);
  return { GroupMemberships: items.map((row) => membershipOf(row, services.identityStoreId)), ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

async function resetUserPassword(input: InputOf<typeof api.ResetUserPassword>, { services, now }: CallContext) {
  const mode = input.Mode ?? 'EMAIL';
  const oneTime = mode === 'ONE_TIME_PASSWORD' ? oneTimePassword() : undefined;
  const passwordHash = oneTime === undefined ? undefined : await hashPassword(oneTime);
  await services.db.transaction().execute(async (trx) => {
    const user = await findUser(trx, input.UserId);
    if (mode === 'EMAIL' && user.email_key === null) throw new ApiError('ValidationException', `User ${user.user_name} has no email: use Mode ONE_TIME_PASSWORD.`);
    // The old password and every session it opened stop working at once.
    await trx.updateTable('portal_sessions').set({ revoked_at: now }).where('user_id', '=', user.user_id).where('revoked_at', 'is', null).execute();
    await trx
      .updateTable('users')
      .set({ password_hash: passwordHash ?? null, password_must_change: oneTime === undefined ? 0 : 1, updated_at: now })
      .where('user_id', '=', user.user_id)
      .execute();
    if (mode === 'EMAIL') await sendPasswordSetupLink(trx, services, user, 'password_reset', now);
  });
  return oneTime === undefined ? {} : { OneTimePassword: oneTime };
}

export const DIRECTORY_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateUser, inStore(createUser)),
  bind(api.DescribeUser, inStore(async (input, { services }) => userOf(await findUser(services.db, input.UserId), services.identityStoreId))),
  bind(api.ListUsers, inStore(listUsers)),
  bind(api.UpdateUser, inStore(updateUser)),
  bind(
    api.DeleteUser,
    inStore(async (input, { services }) => {
      await findUser(services.db, input.UserId);
      await services.db.deleteFrom('users').where('user_id', '=', input.UserId).execute();
      return {};
    }),
  ),
  bind(api.GetUserId, inStore(getUserId)),
  bind(api.ResetUserPassword, inStore(resetUserPassword)),
  bind(api.ListMfaDevicesForUser, inStore(listMfaDevicesForUser)),
  bind(api.DeleteMfaDeviceForUser, inStore(deleteMfaDeviceForUser)),
  bind(api.CreateGroup, inStore(createGroup)),
  bind(api.DescribeGroup, inStore(async (input, { services }) => groupOf(await findGroup(services.db, input.GroupId), services.identityStoreId))),
  bind(api.ListGroups, inStore(listGroups)),
  bind(api.UpdateGroup, inStore(updateGroup)),
  bind(
    api.DeleteGroup,
    inStore(async (input, { services }) => {
      await findGroup(services.db, input.GroupId);
      await services.db.deleteFrom('groups').where('group_id', '=', input.GroupId).execute();
      return {};
    }),
  ),
  bind(api.GetGroupId, inStore(getGroupId)),
  bind(api.CreateGroupMembership, inStore(createGroupMembership)),
  bind(
    api.DeleteGroupMembership,
    inStore(async (input, { services }) => {
      await findMembership(services.db, input.MembershipId);
      await services.db.deleteFrom('memberships').where('membership_id', '=', input.MembershipId).execute();
      return {};
    }),
  ),
  bind(api.DescribeGroupMembership, inStore(async (input, { services }) => membershipOf(await findMembership(services.db, input.MembershipId), services.identityStoreId))),
  bind(
    api.GetGroupMembershipId,
    inStore(async (input, { services }) => {
      const row = await services.db.selectFrom('memberships').select('membership_id').where('group_id', '=', input.GroupId).where('user_id', '=', input.MemberId.UserId).executeTakeFirst();
      if (row === undefined) throw new ApiError('ResourceNotFoundException', `User ${input.MemberId.UserId} is not in group ${input.GroupId}.`);
      return { MembershipId: row.membership_id, IdentityStoreId: services.identityStoreId };
    }),
  ),
  bind(api.ListGroupMemberships, inStore((input, { services }) => listMemberships(services, 'group_id', input.GroupId, input))),
  bind(api.ListGroupMembershipsForMember, inStore((input, { services }) => listMemberships(services, 'user_id', input.MemberId.UserId, input))),
  bind(
    api.IsMemberInGroups,
    inStore(async (input, { services }) => {
      const rows = await services.db.selectFrom('memberships').select('group_id').where('user_id', '=', input.MemberId.UserId).where('group_id', 'in', input.GroupIds).execute();
      const member = new Set(rows.map((row) => row.group_id));
      return { Results: input.GroupIds.map((groupId) => ({ GroupId: groupId, MemberId: input.MemberId, MembershipExists: member.has(groupId) })) };
    }),
  ),
];
