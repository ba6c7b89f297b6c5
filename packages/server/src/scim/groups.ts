/**
 * SCIM Groups (RFC 7643 §4.2) over the same groups and memberships as `identitystore:*`:
 * members are users of this directory (by id). A membership a PATCH or PUT removes takes the
 * group's permission sets away from the next role session; live ones last until they expire or
 * are revoked, as for any membership change.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '@airlock/protocol';
import { assertGroupNameFree } from '../identity/directory.js';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import type { GroupsTable } from '../storage/schema.js';
import { invalidValue, ScimError } from './errors.js';
import { parseEqualityFilter } from './filter.js';
import { applyPatch } from './patch.js';
import { attribute, bodyObject, GROUP_SCHEMA, isObject, listResponse, meta, optionalString, pagingOf, requiredString, type Json } from './resource.js';
import { scimEndpoint } from './tokens.js';

/** Far above real groups' sizes in one request; a provider sends larger ones in PATCH batches. */
const MAX_MEMBERS_PER_REQUEST = 10_000;

interface ScimGroup {
  readonly displayName: string;
  readonly externalId: string | undefined;
  /** User ids; undefined when the body does not mention members (PUT keeps them then). */
  readonly members: readonly string[] | undefined;
}

function groupFromScim(body: unknown): ScimGroup {
  const source = bodyObject(body, GROUP_SCHEMA);
  const displayName = requiredString(source, 'displayName');
  const externalId = optionalString(source, 'externalId', 256);
  const list = attribute(source, 'members');
  if (list === undefined || list === null) return { displayName, externalId, members: undefined };
  if (!Array.isArray(list)) throw invalidValue('members must be a list of {"value": userId}.');
  if (list.length > MAX_MEMBERS_PER_REQUEST) throw new ScimError(400, `At most ${MAX_MEMBERS_PER_REQUEST} members in one request.`, 'tooMany');
  const members = (list as unknown[]).map((member, index) => {
    const value = isObject(member) ? attribute(member, 'value') : undefined;
    if (typeof value !== 'string' || value === '') throw invalidValue(`members[${index}] must be {"value": userId}.`);
    return value;
  });
  return { displayName, externalId, members: [...new Set(members)] };
}

async function findGroupRow(db: Db, groupId: string): Promise<GroupsTable> {
  const row = await db.selectFrom('groups').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `Group ${groupId} does not exist.`);
  return row;
}

function groupToScim(services: Services, row: GroupsTable, members: readonly { user_id: string; user_name: string }[] | undefined): Json {
  const base = scimEndpoint(services);
  return {
    schemas: [GROUP_SCHEMA],
    id: row.group_id,
    ...(row.scim_external_id === null ? {} : { externalId: row.scim_external_id }),
    displayName: row.display_name,
    ...(members === undefined ? {} : { members: members.map((member) => ({ value: member.user_id, display: member.user_name, $ref: `${base}/Users/${member.user_id}`, type: 'User' })) }),
    meta: meta(services, 'Group', row.group_id, row.created_at, row.updated_at ?? row.created_at),
  };
}

async function membersOf(db: Db, groupId: string) {
  return db
    .selectFrom('memberships')
    .innerJoin('users', 'users.user_id', 'memberships.user_id')
    .select(['users.user_id', 'users.user_name'])
    .where('memberships.group_id', '=', groupId)
    .orderBy('users.user_name_key')
    .execute();
}

/** The group's members become exactly `userIds`; each must be a user of this directory. */
async function setMembers(trx: Db, groupId: string, userIds: readonly string[], now: number): Promise<void> {
  if (userIds.length > 0) {
    const known = new Set((await trx.selectFrom('users').select('user_id').where('user_id', 'in', userIds).execute()).map((row) => row.user_id));
    const unknown = userIds.find((id) => !known.has(id));
    if (unknown !== undefined) throw invalidValue(`members: ${unknown} is not a user of this directory (members are users, by id).`);
  }
  const wanted = new Set(userIds);
  const current = await trx.selectFrom('memberships').select(['membership_id', 'user_id']).where('group_id', '=', groupId).execute();
  const stale = current.filter((row) => !wanted.has(row.user_id)).map((row) => row.membership_id);
  if (stale.length > 0) await trx.deleteFrom('memberships').where('membership_id', 'in', stale).execute();
  const have = new Set(current.map((row) => row.user_id));
  const added = userIds.filter((id) => !have.has(id)).map((userId) => ({ membership_id: randomUUID(), group_id: groupId, user_id: userId, created_at: now }));
  if (added.length > 0) await trx.insertInto('memberships').values(added).execute();
}

export async function createScimGroup(services: Services, body: unknown, now: number): Promise<Json> {
  const group = groupFromScim(body);
  const groupId = randomUUID();
  await services.db.transaction().execute(async (trx) => {
    await assertGroupNameFree(trx, group.displayName);
    await trx
      .insertInto('groups')
      .values({ group_id: groupId, display_name: group.displayName, display_name_key: group.displayName.toLowerCase(), description: null, created_at: now, scim_external_id: group.externalId ?? null, updated_at: null })
      .execute();
    await setMembers(trx, groupId, group.members ?? [], now);
  });
  return getScimGroup(services, groupId, true);
}

export async function getScimGroup(services: Services, groupId: string, withMembers: boolean): Promise<Json> {
  const row = await findGroupRow(services.db, groupId);
  return groupToScim(services, row, withMembers ? await membersOf(services.db, groupId) : undefined);
}

/** PUT: displayName and externalId as the body says; members too when the body lists them. */
export async function replaceScimGroup(services: Services, groupId: string, body: unknown, now: number): Promise<Json> {
  const group = groupFromScim(body);
  await services.db.transaction().execute(async (trx) => {
    await findGroupRow(trx, groupId);
    await assertGroupNameFree(trx, group.displayName, groupId);
    await trx
      .updateTable('groups')
      .set({ display_name: group.displayName, display_name_key: group.displayName.toLowerCase(), scim_external_id: group.externalId ?? null, updated_at: now })
      .where('group_id', '=', groupId)
      .execute();
    if (group.members !== undefined) await setMembers(trx, groupId, group.members, now);
  });
  return getScimGroup(services, groupId, true);
}

export async function patchScimGroup(services: Services, groupId: string, body: unknown, now: number): Promise<Json> {
  const current = await getScimGroup(services, groupId, true);
  const patched = applyPatch(current, body);
  if (attribute(patched, 'id') !== groupId) throw new ScimError(400, 'id cannot change.', 'mutability');
  // Every member removed leaves no members attribute: that means an empty group here, not "unchanged".
  return replaceScimGroup(services, groupId, { ...patched, members: attribute(patched, 'members') ?? [] }, now);
}

export async function deleteScimGroup(services: Services, groupId: string): Promise<void> {
  const deleted = await services.db.deleteFrom('groups').where('group_id', '=', groupId).executeTakeFirst();
  if (deleted.numDeletedRows === 0n) throw new ApiError('ResourceNotFoundException', `Group ${groupId} does not exist.`);
}

const GROUP_FILTER_COLUMNS = { displayname: 'display_name_key', externalid: 'scim_external_id', id: 'group_id' } as const;

export async function listScimGroups(services: Services, query: Readonly<Record<string, string | undefined>>): Promise<Json> {
  const paging = pagingOf(query);
  const withMembers = !(query['excludedAttributes'] ?? '').toLowerCase().split(',').map((name) => name.trim()).includes('members');
  let select = services.db.selectFrom('groups');
  if (query['filter'] !== undefined) {
    const filter = parseEqualityFilter(query['filter']);
    const column = GROUP_FILTER_COLUMNS[filter.attribute.toLowerCase() as keyof typeof GROUP_FILTER_COLUMNS] as (typeof GROUP_FILTER_COLUMNS)[keyof typeof GROUP_FILTER_COLUMNS] | undefined;
    if (column === undefined) throw new ScimError(400, `Groups can be filtered by displayName, externalId or id, not ${filter.attribute}.`, 'invalidFilter');
    select = select.where(column, '=', column === 'display_name_key' ? filter.value.toLowerCase() : filter.value);
  }
  const total = Number((await select.select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow()).count);
  const rows = paging.count === 0 ? [] : await select.selectAll().orderBy('display_name_key').offset(paging.startIndex - 1).limit(paging.count).execute();
  const resources = [];
  for (const row of rows) resources.push(groupToScim(services, row, withMembers ? await membersOf(services.db, row.group_id) : undefined));
  return listResponse(resources, total, paging);
}
