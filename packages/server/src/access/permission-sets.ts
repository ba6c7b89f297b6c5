/**
 * Service `sso`: permission sets (a policy and a session duration), their inline and managed
 * policies, and the assignments that give them to users and groups in accounts. Airlock has no
 * per-account roles to create, so provisioning completes at once; policy changes apply from the
 * next call (AWS needs a re-provisioning for that).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { analyzePolicy } from '@airlock/policy';
import { ApiError, ssoAdmin as api, type InputOf } from '@airlock/protocol';
import { decodeNextToken, page } from '../identity/paging.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { Db } from '../storage/db.js';
import type { AccessRequestsTable, PermissionSetsTable } from '../storage/schema.js';
import { findAccount } from './accounts.js';
import { MANAGED_POLICY_ARNS, MANAGED_POLICY_PREFIX } from './managed-policies.js';

const DURATION = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;

/** ISO 8601 duration in seconds; PT1H to PT12H as IAM Identity Center allows. */
export function sessionSeconds(duration: string): number {
  const match = DURATION.exec(duration);
  const seconds = Number(match?.[1] ?? 0) * 3600 + Number(match?.[2] ?? 0) * 60 + Number(match?.[3] ?? 0);
  if (match === null || seconds < 3600 || seconds > 12 * 3600) {
    throw new ApiError('ValidationException', `SessionDuration ${duration} must be from PT1H to PT12H.`);
  }
  return seconds;
}

export const instanceArn = (services: Services): string => `arn:aws:sso:::instance/${services.ssoInstanceId}`;
export const permissionSetArnOf = (services: Services, psId: string): string => `arn:aws:sso:::permissionSet/${services.ssoInstanceId}/${psId}`;

function checkInstance(services: Services, input: { InstanceArn?: string }): void {
  if (input.InstanceArn !== undefined && input.InstanceArn !== instanceArn(services)) {
    throw new ApiError('ResourceNotFoundException', `Instance ${input.InstanceArn} does not exist; this server's is ${instanceArn(services)}.`);
  }
}

function psIdOf(services: Services, arn: string): string {
  const [, instance, psId] = arn.split('/');
  if (instance !== services.ssoInstanceId || psId === undefined) throw new ApiError('ResourceNotFoundException', `Permission set ${arn} does not exist.`);
  return psId;
}

export async function findPermissionSet(db: Db, services: Services, arn: string): Promise<PermissionSetsTable> {
  const row = await db.selectFrom('permission_sets').selectAll().where('ps_id', '=', psIdOf(services, arn)).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `Permission set ${arn} does not exist.`);
  return row;
}

function describe(services: Services, row: PermissionSetsTable) {
  return {
    Name: row.name,
    PermissionSetArn: permissionSetArnOf(services, row.ps_id),
    CreatedDate: row.created_at / 1000,
    SessionDuration: row.session_duration,
    ...(row.description === null ? {} : { Description: row.description }),
    ...(row.relay_state === null ? {} : { RelayState: row.relay_state }),
  };
}

/** Wraps a handler with the InstanceArn check every sso operation makes. */
function inInstance<I extends { InstanceArn?: string }, O>(handler: (input: I, context: CallContext) => Promise<O>) {
  return (input: I, context: CallContext): Promise<O> => {
    checkInstance(context.services, input);
    return handler(input, context);
  };
}

async function createPermissionSet(input: InputOf<typeof api.CreatePermissionSet>, { services, now }: CallContext) {
  const duration = input.SessionDuration ?? 'PT1H';
  sessionSeconds(duration);
  const row: PermissionSetsTable = {
    ps_id: `ps-${randomBytes(8).toString('hex')}`,
    name: input.Name,
    name_key: input.Name.toLowerCase(),
    description: input.Description ?? null,
    session_duration: duration,
    relay_state: input.RelayState ?? null,
    tags: JSON.stringify(input.Tags ?? []),
    inline_policy: null,
    created_at: now,
  };
  await services.db.transaction().execute(async (trx) => {
    const clash = await trx.selectFrom('permission_sets').select('ps_id').where('name_key', '=', row.name_key).executeTakeFirst();
    if (clash !== undefined) throw new ApiError('ConflictException', `A permission set named ${input.Name} exists.`);
    await trx.insertInto('permission_sets').values(row).execute();
  });
  return { PermissionSet: describe(services, row) };
}

async function updatePermissionSet(input: InputOf<typeof api.UpdatePermissionSet>, { services }: CallContext) {
  if (input.SessionDuration !== undefined) sessionSeconds(input.SessionDuration);
  const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
  await services.db
    .updateTable('permission_sets')
    .set({
      description: input.Description ?? row.description,
      session_duration: input.SessionDuration ?? row.session_duration,
      relay_state: input.RelayState ?? row.relay_state,
    })
    .where('ps_id', '=', row.ps_id)
    .execute();
  return {};
}

async function deletePermissionSet(input: InputOf<typeof api.DeletePermissionSet>, { services }: CallContext) {
  await services.db.transaction().execute(async (trx) => {
    const row = await findPermissionSet(trx, services, input.PermissionSetArn);
    const assigned = await trx.selectFrom('assignments').select('account_id').where('ps_id', '=', row.ps_id).executeTakeFirst();
    if (assigned !== undefined) {
      throw new ApiError('ConflictException', `${row.name} is assigned in account ${assigned.account_id}; delete its account assignments first.`);
    }
    await trx.deleteFrom('provisioned').where('ps_id', '=', row.ps_id).execute();
    await trx.deleteFrom('permission_sets').where('ps_id', '=', row.ps_id).execute();
  });
  return {};
}

async function putInlinePolicy(input: InputOf<typeof api.PutInlinePolicyToPermissionSet>, { services }: CallContext) {
  const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
  const { findings } = analyzePolicy(input.InlinePolicy, { name: row.name });
  const errors = findings.filter((finding) => finding.findingType === 'ERROR');
  if (errors.length > 0) {
    const listed = errors.map((finding) => `${finding.issueCode} at ${finding.path === '' ? 'the document' : finding.path}: ${finding.findingDetails}`);
    throw new ApiError('ValidationException', `The inline policy is not valid (${errors.length} error${errors.length === 1 ? '' : 's'}): ${listed.join(' ')}`);
  }
  await services.db.updateTable('permission_sets').set({ inline_policy: input.InlinePolicy }).where('ps_id', '=', row.ps_id).execute();
  return {};
}

async function attachManagedPolicy(input: InputOf<typeof api.AttachManagedPolicyToPermissionSet>, { services }: CallContext) {
  if (!MANAGED_POLICY_ARNS.includes(input.ManagedPolicyArn)) {
    throw new ApiError('ResourceNotFoundException', `${input.ManagedPolicyArn} is not a managed policy Airlock has: ${MANAGED_POLICY_ARNS.join(', ')}.`);
  }
  const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
  const existing = await services.db.selectFrom('permission_set_managed_policies').select('ps_id').where('ps_id', '=', row.ps_id).where('policy_arn', '=', input.ManagedPolicyArn).executeTakeFirst();
  if (existing !== undefined) throw new ApiError('ConflictException', `${input.ManagedPolicyArn} is already attached to ${row.name}.`);
  await services.db.insertInto('permission_set_managed_policies').values({ ps_id: row.ps_id, policy_arn: input.ManagedPolicyArn }).execute();
  return {};
}

async function record(db: Db, kind: AccessRequestsTable['kind'], status: object, now: number): Promise<void> {
  const requestId = (status as { RequestId: string }).RequestId;
  await db.insertInto('access_requests').values({ request_id: requestId, kind, status: JSON.stringify(status), created_at: now }).execute();
}

async function findRequest<T>(db: Db, kind: AccessRequestsTable['kind'], requestId: string): Promise<T> {
  const row = await db.selectFrom('access_requests').select('status').where('request_id', '=', requestId).where('kind', '=', kind).executeTakeFirst();
  if (row === undefined) throw new ApiError('ResourceNotFoundException', `There is no request ${requestId}.`);
  return JSON.parse(row.status) as T;
}

async function provision(input: InputOf<typeof api.ProvisionPermissionSet>, { services, now }: CallContext) {
  const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
  if (input.TargetType === 'AWS_ACCOUNT') {
    if (input.TargetId === undefined) throw new ApiError('ValidationException', 'TargetType AWS_ACCOUNT needs a TargetId.');
    await findAccount(services.db, input.TargetId);
    await services.db.insertInto('provisioned').values({ ps_id: row.ps_id, account_id: input.TargetId }).onConflict((c) => c.columns(['ps_id', 'account_id']).doNothing()).execute();
  }
  const status = {
    Status: 'SUCCEEDED' as const,
    RequestId: randomUUID(),
    ...(input.TargetId === undefined ? {} : { AccountId: input.TargetId }),
    PermissionSetArn: input.PermissionSetArn,
    CreatedDate: now / 1000,
  };
  await record(services.db, 'provision', status, now);
  return { PermissionSetProvisioningStatus: status };
}

async function principalExists(db: Db, type: 'USER' | 'GROUP', id: string): Promise<boolean> {
  const row =
    type === 'USER'
      ? await db.selectFrom('users').select('user_id as id').where('user_id', '=', id).executeTakeFirst()
      : await db.selectFrom('groups').select('group_id as id').where('group_id', '=', id).executeTakeFirst();
  return row !== undefined;
}

async function createAssignment(input: InputOf<typeof api.CreateAccountAssignment>, { services, now }: CallContext) {
  const status = { ...assignmentFields(input), Status: 'SUCCEEDED' as const, RequestId: randomUUID(), CreatedDate: now / 1000 };
  await services.db.transaction().execute(async (trx) => {
    const row = await findPermissionSet(trx, services, input.PermissionSetArn);
    await findAccount(trx, input.TargetId);
    if (!(await principalExists(trx, input.PrincipalType, input.PrincipalId))) {
      throw new ApiError('ResourceNotFoundException', `${input.PrincipalType === 'USER' ? 'User' : 'Group'} ${input.PrincipalId} does not exist.`);
    }
    await trx
      .insertInto('assignments')
      .values({ account_id: input.TargetId, ps_id: row.ps_id, principal_type: input.PrincipalType, principal_id: input.PrincipalId, created_at: now })
      .onConflict((c) => c.columns(['account_id', 'ps_id', 'principal_type', 'principal_id']).doNothing())
      .execute();
    await trx.insertInto('provisioned').values({ ps_id: row.ps_id, account_id: input.TargetId }).onConflict((c) => c.columns(['ps_id', 'account_id']).doNothing()).execute();
    await record(trx, 'assignment_create', status, now);
  });
  return { AccountAssignmentCreationStatus: status };
}

async function deleteAssignment(input: InputOf<typeof api.DeleteAccountAssignment>, { services, now }: CallContext) {
  const status = { ...assignmentFields(input), Status: 'SUCCEEDED' as const, RequestId: randomUUID(), CreatedDate: now / 1000 };
  await services.db.transaction().execute(async (trx) => {
    const row = await findPermissionSet(trx, services, input.PermissionSetArn);
    const deleted = await trx
      .deleteFrom('assignments')
      .where('account_id', '=', input.TargetId)
      .where('ps_id', '=', row.ps_id)
      .where('principal_type', '=', input.PrincipalType)
      .where('principal_id', '=', input.PrincipalId)
      .executeTakeFirst();
    if (deleted.numDeletedRows === 0n) throw new ApiError('ResourceNotFoundException', 'There is no such account assignment.');
    await record(trx, 'assignment_delete', status, now);
  });
  return { AccountAssignmentDeletionStatus: status };
}

function assignmentFields(input: InputOf<typeof api.CreateAccountAssignment>) {
  return { TargetId: input.TargetId, TargetType: input.TargetType, PermissionSetArn: input.PermissionSetArn, PrincipalType: input.PrincipalType, PrincipalId: input.PrincipalId };
}

async function listPermissionSets(input: InputOf<typeof api.ListPermissionSets>, { services }: CallContext) {
  const size = input.MaxResults ?? 100;
  const after = decodeNextToken(input.NextToken);
  let query = services.db.selectFrom('permission_sets').select('ps_id').orderBy('ps_id').limit(size + 1);
  if (after !== undefined) query = query.where('ps_id', '>', after);
  const { items, nextToken } = page(await query.execute(), size, (row) => row.ps_id);
  return { PermissionSets: items.map((row) => permissionSetArnOf(services, row.ps_id)), ...(nextToken === undefined ? {} : { NextToken: nextToken }) };
}

async function listAssignments(input: InputOf<typeof api.ListAccountAssignments>, { services }: CallContext) {
  const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
  const rows = await services.db
    .selectFrom('assignments')
    .selectAll()
    .where('account_id', '=', input.AccountId)
    .where('ps_id', '=', row.ps_id)
    .orderBy('principal_type')
    .orderBy('principal_id')
    .execute();
  return {
    AccountAssignments: rows.map((assignment) => ({
      AccountId: assignment.account_id,
      PermissionSetArn: input.PermissionSetArn,
      PrincipalType: assignment.principal_type,
      PrincipalId: assignment.principal_id,
    })),
  };
}

export const SSO_ADMIN_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreatePermissionSet, inInstance(createPermissionSet)),
  bind(api.DescribePermissionSet, inInstance(async (input, { services }) => ({ PermissionSet: describe(services, await findPermissionSet(services.db, services, input.PermissionSetArn)) }))),
  bind(api.ListPermissionSets, inInstance(listPermissionSets)),
  bind(api.UpdatePermissionSet, inInstance(updatePermissionSet)),
  bind(api.DeletePermissionSet, inInstance(deletePermissionSet)),
  bind(api.PutInlinePolicyToPermissionSet, inInstance(putInlinePolicy)),
  bind(
    api.GetInlinePolicyForPermissionSet,
    inInstance(async (input, { services }) => {
      const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
      return row.inline_policy === null ? {} : { InlinePolicy: row.inline_policy };
    }),
  ),
  bind(
    api.DeleteInlinePolicyFromPermissionSet,
    inInstance(async (input, { services }) => {
      const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
      await services.db.updateTable('permission_sets').set({ inline_policy: null }).where('ps_id', '=', row.ps_id).execute();
      return {};
    }),
  ),
  bind(api.AttachManagedPolicyToPermissionSet, inInstance(attachManagedPolicy)),
  bind(
    api.DetachManagedPolicyFromPermissionSet,
    inInstance(async (input, { services }) => {
      const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
      const result = await services.db.deleteFrom('permission_set_managed_policies').where('ps_id', '=', row.ps_id).where('policy_arn', '=', input.ManagedPolicyArn).executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new ApiError('ResourceNotFoundException', `${input.ManagedPolicyArn} is not attached to ${row.name}.`);
      return {};
    }),
  ),
  bind(
    api.ListManagedPoliciesInPermissionSet,
    inInstance(async (input, { services }) => {
      const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
      const rows = await services.db.selectFrom('permission_set_managed_policies').select('policy_arn').where('ps_id', '=', row.ps_id).orderBy('policy_arn').execute();
      return { AttachedManagedPolicies: rows.map((policy) => ({ Arn: policy.policy_arn, Name: policy.policy_arn.slice(MANAGED_POLICY_PREFIX.length) })) };
    }),
  ),
  bind(api.ProvisionPermissionSet, inInstance(provision)),
  bind(
    api.DescribePermissionSetProvisioningStatus,
    inInstance(async (input, { services }) => ({ PermissionSetProvisioningStatus: await findRequest(services.db, 'provision', input.ProvisionPermissionSetRequestId) })),
  ),
  bind(api.CreateAccountAssignment, inInstance(createAssignment)),
  bind(
    api.DescribeAccountAssignmentCreationStatus,
    inInstance(async (input, { services }) => ({ AccountAssignmentCreationStatus: await findRequest(services.db, 'assignment_create', input.AccountAssignmentCreationRequestId) })),
  ),
  bind(api.DeleteAccountAssignment, inInstance(deleteAssignment)),
  bind(api.ListAccountAssignments, inInstance(listAssignments)),
  bind(
    api.ListAccountsForProvisionedPermissionSet,
    inInstance(async (input, { services }) => {
      const row = await findPermissionSet(services.db, services, input.PermissionSetArn);
      const rows = await services.db.selectFrom('provisioned').select('account_id').where('ps_id', '=', row.ps_id).orderBy('account_id').execute();
      return { AccountIds: rows.map((provisioned) => provisioned.account_id) };
    }),
  ),
];
