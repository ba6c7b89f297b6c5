/**
 * SCIM Users (RFC 7643 §4.1) over the same users as `identitystore:*`. The profile maps field by
 * field (userName ↔ UserName, name.givenName ↔ Name.GivenName …) and is checked with the
 * directory's own rules. `active: false` deactivates: no sign-in, and every portal and role
 * session of the user ends at once. Attributes for access control (the user's Attributes) are
 * not SCIM's and are kept as they are.
 */
import { randomUUID } from 'node:crypto';
import { ApiError, identitystore, validate } from '@airlock/protocol';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import { identitySource, isBreakGlass } from '../identity/sources/setting.js';
import { findUser, findUserByName, primaryEmail, type Profile, type UserRow } from '../identity/users.js';
import { invalidValue, ScimError } from './errors.js';
import { parseEqualityFilter } from './filter.js';
import { applyPatch, booleanOf } from './patch.js';
import { attribute, bodyObject, isObject, listResponse, meta, optionalString, pagingOf, requiredString, USER_SCHEMA, type Json } from './resource.js';

/** Single-valued string attributes: SCIM's name, and the profile field it becomes. */
const SIMPLE = ['displayName', 'nickName', 'profileUrl', 'userType', 'title', 'preferredLanguage', 'locale', 'timezone'] as const;
/** Complex and multi-valued attributes and their sub-attributes. */
const COMPLEX = {
  name: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'],
  emails: ['value', 'type', 'primary'],
  addresses: ['streetAddress', 'locality', 'region', 'postalCode', 'country', 'formatted', 'type', 'primary'],
  phoneNumbers: ['value', 'type', 'primary'],
} as const;
const MULTI_VALUED = new Set(['emails', 'addresses', 'phoneNumbers']);

const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);
const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

interface ScimUser {
  readonly userName: string;
  readonly externalId: string | undefined;
  readonly active: boolean;
  /** The profile without Attributes (SCIM does not carry them). */
  readonly profile: Profile;
}

function complexValue(source: Json, name: keyof typeof COMPLEX, path: string): Json {
  const result: Json = {};
  for (const sub of COMPLEX[name]) {
    const value = attribute(source, sub);
    if (value === undefined || value === null) continue;
    result[pascal(sub)] = sub === 'primary' ? booleanOf(value, `${path}.primary`) : value;
  }
  return result;
}

/** A SCIM User body as Airlock's user, checked with the directory's rules. */
function userFromScim(body: unknown): ScimUser {
  const source = bodyObject(body, USER_SCHEMA);
  const userName = requiredString(source, 'userName', 128);
  const externalId = optionalString(source, 'externalId', 256);
  const activeValue = attribute(source, 'active');
  const active = activeValue === undefined || activeValue === null ? true : booleanOf(activeValue, 'active');
  const profile: Profile & Json = {};
  for (const name of SIMPLE) {
    const value = optionalString(source, name);
    if (value !== undefined) profile[pascal(name)] = value;
  }
  for (const name of Object.keys(COMPLEX) as (keyof typeof COMPLEX)[]) {
    const value = attribute(source, name);
    if (value === undefined || value === null) continue;
    if (MULTI_VALUED.has(name)) {
      if (!Array.isArray(value)) throw invalidValue(`${name} must be a list.`);
      if (value.length > 1) throw invalidValue(`Airlock keeps one of ${name} per user, as IAM Identity Center does: send the primary one only.`);
      const items = (value as unknown[]).map((item, index) => {
        if (!isObject(item)) throw invalidValue(`${name}[${index}] must be an object.`);
        return complexValue(item, name, `${name}[${index}]`);
      });
      if (items.length > 0) profile[pascal(name)] = items;
    } else {
      if (!isObject(value)) throw invalidValue(`${name} must be an object.`);
      const item = complexValue(value, name, name);
      if (Object.keys(item).length > 0) profile[pascal(name)] = item;
    }
  }
  const problems = validate(identitystore.user, { IdentityStoreId: 'd-0000000000', UserId: '00000000-0000-0000-0000-000000000000', UserName: userName, ...profile });
  if (problems.length > 0) throw invalidValue(problems.map((problem) => problem.message).join(' '));
  return { userName, externalId, active, profile };
}

/** Airlock's user as a SCIM User. */
export function userToScim(services: Services, row: UserRow): Json {
  const profile = JSON.parse(row.profile) as Profile & Json;
  const resource: Json = { schemas: [USER_SCHEMA], id: row.user_id };
  if (row.scim_external_id !== null) resource['externalId'] = row.scim_external_id;
  resource['userName'] = row.user_name;
  for (const name of SIMPLE) {
    const value = profile[pascal(name)];
    if (value !== undefined) resource[name] = value;
  }
  for (const name of Object.keys(COMPLEX) as (keyof typeof COMPLEX)[]) {
    const value = profile[pascal(name)];
    if (value === undefined) continue;
    const convert = (item: unknown): Json => Object.fromEntries(Object.entries(item as Json).map(([key, sub]) => [camel(key), sub]));
    resource[name] = Array.isArray(value) ? value.map(convert) : convert(value);
  }
  resource['active'] = row.disabled_at === null;
  resource['meta'] = meta(services, 'User', row.user_id, row.created_at, row.updated_at);
  return resource;
}

async function assertUserNameFree(db: Db, userName: string, except?: string): Promise<void> {
  const clash = await findUserByName(db, userName);
  if (clash !== undefined && clash.user_id !== except) throw new ScimError(409, `A user named ${userName} exists (names are compared without case).`, 'uniqueness');
}

/** The break-glass user is the way in when the identity provider fails: its SCIM client may not change or remove it. */
async function assertNotBreakGlass(services: Services, row: UserRow): Promise<void> {
  if (isBreakGlass(await identitySource(services), row.user_name)) {
    throw new ScimError(403, `${row.user_name} is the break-glass user of the identity source: SCIM cannot change or delete it (an administrator can, with identitystore:*).`);
  }
}

/** Deactivating ends every session the user holds; reactivating lets them sign in again. */
async function setActive(trx: Db, userId: string, active: boolean, now: number): Promise<void> {
  if (active) {
    await trx.updateTable('users').set({ disabled_at: null }).where('user_id', '=', userId).execute();
    return;
  }
  await trx.updateTable('users').set({ disabled_at: now }).where('user_id', '=', userId).where('disabled_at', 'is', null).execute();
  await trx.updateTable('portal_sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  await trx.updateTable('role_sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

export async function createScimUser(services: Services, body: unknown, now: number): Promise<Json> {
  const user = userFromScim(body);
  const userId = randomUUID();
  await services.db.transaction().execute(async (trx) => {
    await assertUserNameFree(trx, user.userName);
    await trx
      .insertInto('users')
      .values({
        user_id: userId,
        user_name: user.userName,
        user_name_key: user.userName.toLowerCase(),
        email_key: primaryEmail(user.profile)?.toLowerCase() ?? null,
        profile: JSON.stringify(user.profile),
        password_hash: null,
        password_must_change: 0,
        created_at: now,
        updated_at: now,
        disabled_at: user.active ? null : now,
        scim_external_id: user.externalId ?? null,
      })
      .execute();
  });
  return userToScim(services, await findUser(services.db, userId));
}

export async function getScimUser(services: Services, userId: string): Promise<Json> {
  return userToScim(services, await findUser(services.db, userId));
}

/** PUT: every SCIM attribute becomes what the body says (absent ones are cleared). */
export async function replaceScimUser(services: Services, userId: string, body: unknown, now: number): Promise<Json> {
  const user = userFromScim(body);
  await assertNotBreakGlass(services, await findUser(services.db, userId));
  await services.db.transaction().execute(async (trx) => {
    const row = await findUser(trx, userId);
    await assertUserNameFree(trx, user.userName, userId);
    const attributes = (JSON.parse(row.profile) as Profile).Attributes;
    const profile: Profile = { ...user.profile, ...(attributes === undefined ? {} : { Attributes: attributes }) };
    await trx
      .updateTable('users')
      .set({
        user_name: user.userName,
        user_name_key: user.userName.toLowerCase(),
        email_key: primaryEmail(profile)?.toLowerCase() ?? null,
        profile: JSON.stringify(profile),
        scim_external_id: user.externalId ?? null,
        updated_at: now,
      })
      .where('user_id', '=', userId)
      .execute();
    await setActive(trx, userId, user.active, now);
  });
  return getScimUser(services, userId);
}

export async function patchScimUser(services: Services, userId: string, body: unknown, now: number): Promise<Json> {
  const current = await getScimUser(services, userId);
  const patched = applyPatch(current, body);
  if (attribute(patched, 'id') !== userId) throw new ScimError(400, 'id cannot change.', 'mutability');
  return replaceScimUser(services, userId, patched, now);
}

export async function deleteScimUser(services: Services, userId: string): Promise<void> {
  await assertNotBreakGlass(services, await findUser(services.db, userId));
  const deleted = await services.db.deleteFrom('users').where('user_id', '=', userId).executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new ApiError('ResourceNotFoundException', `User ${userId} does not exist.`);
}

const USER_FILTER_COLUMNS = { username: 'user_name_key', externalid: 'scim_external_id', id: 'user_id', 'emails.value': 'email_key', emails: 'email_key' } as const;
/** Columns kept lower-cased: their filters compare without case, as userName and emails are caseExact false. */
const CASE_FOLDED = new Set(['user_name_key', 'email_key']);

export async function listScimUsers(services: Services, query: Readonly<Record<string, string | undefined>>): Promise<Json> {
  const paging = pagingOf(query);
  let select = services.db.selectFrom('users');
  if (query['filter'] !== undefined) {
    const filter = parseEqualityFilter(query['filter']);
    const column = USER_FILTER_COLUMNS[filter.attribute.toLowerCase() as keyof typeof USER_FILTER_COLUMNS] as (typeof USER_FILTER_COLUMNS)[keyof typeof USER_FILTER_COLUMNS] | undefined;
    if (column === undefined) throw new ScimError(400, `Users can be filtered by userName, externalId, id or emails.value, not ${filter.attribute}.`, 'invalidFilter');
    select = select.where(column, '=', CASE_FOLDED.has(column) ? filter.value.toLowerCase() : filter.value);
  }
  const total = Number((await select.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow()).count);
  const rows = paging.count === 0 ? [] : await select.selectAll().orderBy('user_name_key').offset(paging.startIndex - 1).limit(paging.count).execute();
  return listResponse(rows.map((row) => userToScim(services, row)), total, paging);
}
