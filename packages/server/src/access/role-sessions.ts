/**
 * Role sessions: a signed-in person picks an account and one of their permission sets there
 * (`portal:GetRoleCredentials`) and gets a token whose calls that permission set's policies
 * decide, for its SessionDuration. Removing the assignment stops new role sessions; an
 * administrator can end live ones (`sso:RevokeRoleSessions`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { ApiError, roleSessions as api, ssoAdmin, type InputOf } from '@airlock/protocol';
import { portalUser } from '../identity/mfa-devices.js';
import { assumedRoleArn, type RolePrincipal } from '../identity/principal.js';
import { hashToken, newToken } from '../identity/tokens.js';
import type { Profile } from '../identity/users.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import { findPermissionSet, sessionSeconds } from './permission-sets.js';

export const ROLE_TOKEN_PREFIX = 'als_';

/** IAM Identity Center's role name: AWSReservedSSO_{Name}_{16 hex}, stable per permission set and account. */
export function roleNameOf(services: Services, permissionSetName: string, psId: string, accountId: string): string {
  const suffix = createHash('sha256').update(`${services.ssoInstanceId}/${psId}/${accountId}`).digest('hex').slice(0, 16);
  return `AWSReservedSSO_${permissionSetName}_${suffix}`;
}

/** The role's unique id as aws:userid shows it (`AROA…:{user}`), derived like the name. */
export function roleUniqueId(roleName: string): string {
  return `AROA${createHash('sha256').update(roleName).digest('hex').slice(0, 17).toUpperCase()}`;
}

/** The permission sets a user holds in accounts, directly or through groups. */
async function assignmentsOf(db: Db, userId: string) {
  const groups = await db.selectFrom('memberships').select('group_id').where('user_id', '=', userId).execute();
  const groupIds = groups.map((group) => group.group_id);
  return db
    .selectFrom('assignments')
    .innerJoin('permission_sets', 'permission_sets.ps_id', 'assignments.ps_id')
    .innerJoin('accounts', 'accounts.account_id', 'assignments.account_id')
    .select(['assignments.account_id', 'accounts.name as account_name', 'accounts.email', 'permission_sets.ps_id', 'permission_sets.name', 'permission_sets.session_duration'])
    .where((eb) =>
      eb.or([
        eb.and([eb('assignments.principal_type', '=', 'USER'), eb('assignments.principal_id', '=', userId)]),
        ...(groupIds.length === 0 ? [] : [eb.and([eb('assignments.principal_type', '=', 'GROUP'), eb('assignments.principal_id', 'in', groupIds)])]),
      ]),
    )
    .distinct()
    .execute();
}

async function listAccounts(context: CallContext) {
  const rows = await assignmentsOf(context.services.db, portalUser(context));
  const accounts = new Map(rows.map((row) => [row.account_id, { AccountId: row.account_id, AccountName: row.account_name, EmailAddress: row.email }]));
  return { AccountList: [...accounts.values()].sort((a, b) => a.AccountId.localeCompare(b.AccountId)) };
}

async function listAccountRoles(input: InputOf<typeof api.ListAccountRoles>, context: CallContext) {
  const rows = await assignmentsOf(context.services.db, portalUser(context));
  const names = [...new Set(rows.filter((row) => row.account_id === input.AccountId).map((row) => row.name))].sort();
  return { RoleList: names.map((name) => ({ RoleName: name, AccountId: input.AccountId })) };
}

async function getRoleCredentials(input: InputOf<typeof api.GetRoleCredentials>, context: CallContext) {
  const { services, now, principal } = context;
  const userId = portalUser(context);
  if (principal.kind !== 'portal') throw new ApiError('UnauthorizedException', 'Sign in to the portal first.');
  const assignment = (await assignmentsOf(services.db, userId)).find((row) => row.account_id === input.AccountId && row.name === input.RoleName);
  if (assignment === undefined) {
    throw new ApiError('AccessDeniedException', `You have no permission set ${input.RoleName} in account ${input.AccountId}. ListAccountRoles shows the ones you have.`);
  }
  const portal = await services.db.selectFrom('portal_sessions').select('created_at').where('session_id', '=', principal.sessionId).executeTakeFirstOrThrow();
  const token = newToken(ROLE_TOKEN_PREFIX);
  const expiresAt = now + sessionSeconds(assignment.session_duration) * 1000;
  await services.db
    .insertInto('role_sessions')
    .values({
      token_hash: hashToken(token),
      session_id: randomUUID(),
      user_id: userId,
      account_id: assignment.account_id,
      ps_id: assignment.ps_id,
      mfa_at: principal.mfa ? portal.created_at : null,
      created_at: now,
      expires_at: expiresAt,
      revoked_at: null,
    })
    .execute();
  const roleName = roleNameOf(services, assignment.name, assignment.ps_id, assignment.account_id);
  return { RoleCredentials: { AccessToken: token, Expiration: expiresAt, AssumedRoleArn: `arn:aws:sts::${assignment.account_id}:assumed-role/${roleName}/${principal.userName}` } };
}

/** The live role session a token names, as a principal; undefined when unknown, expired or revoked. */
export async function findRoleSession(services: Services, token: string, now: number): Promise<RolePrincipal | undefined> {
  const row = await services.db
    .selectFrom('role_sessions')
    .innerJoin('users', 'users.user_id', 'role_sessions.user_id')
    .innerJoin('permission_sets', 'permission_sets.ps_id', 'role_sessions.ps_id')
    .select([
      'role_sessions.session_id',
      'role_sessions.user_id',
      'role_sessions.account_id',
      'role_sessions.ps_id',
      'role_sessions.mfa_at',
      'role_sessions.expires_at',
      'users.user_name',
      'users.profile',
      'permission_sets.name',
    ])
    .where('role_sessions.token_hash', '=', hashToken(token))
    .where('role_sessions.revoked_at', 'is', null)
    .where('role_sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    kind: 'role',
    accountId: row.account_id,
    userId: row.user_id,
    userName: row.user_name,
    sessionId: row.session_id,
    permissionSetId: row.ps_id,
    permissionSetName: row.name,
    roleName: roleNameOf(services, row.name, row.ps_id, row.account_id),
    mfaAt: row.mfa_at,
    tags: (JSON.parse(row.profile) as Profile).Attributes ?? {},
    expiresAt: row.expires_at,
  };
}

function callerIdentity(context: CallContext) {
  const { principal, services } = context;
  switch (principal.kind) {
    case 'role':
      return { UserId: `${roleUniqueId(principal.roleName)}:${principal.userName}`, Account: principal.accountId, Arn: assumedRoleArn(principal) };
    case 'portal':
      return { UserId: principal.userId, Account: services.accountId, Arn: `arn:aws:identitystore::${services.accountId}:user/${principal.userId}` };
    case 'root':
      return { UserId: principal.accountId, Account: principal.accountId, Arn: `arn:aws:iam::${principal.accountId}:root` };
    case 'anonymous':
      throw new ApiError('UnauthorizedException', 'sts:GetCallerIdentity needs credentials.');
  }
}

async function revokeRoleSessions(input: InputOf<typeof ssoAdmin.RevokeRoleSessions>, { services, now }: CallContext) {
  let query = services.db.updateTable('role_sessions').set({ revoked_at: now }).where('user_id', '=', input.UserId).where('revoked_at', 'is', null).where('expires_at', '>', now);
  if (input.PermissionSetArn !== undefined) query = query.where('ps_id', '=', (await findPermissionSet(services.db, services, input.PermissionSetArn)).ps_id);
  const result = await query.executeTakeFirst();
  return { Revoked: Number(result.numUpdatedRows) };
}

export const ROLE_SESSION_OPERATIONS: readonly BoundOperation[] = [
  bind(api.ListAccounts, (_input, context) => listAccounts(context)),
  bind(api.ListAccountRoles, listAccountRoles),
  bind(api.GetRoleCredentials, getRoleCredentials),
  bind(api.GetCallerIdentity, (_input, context) => Promise.resolve(callerIdentity(context))),
  bind(ssoAdmin.RevokeRoleSessions, revokeRoleSessions),
];
