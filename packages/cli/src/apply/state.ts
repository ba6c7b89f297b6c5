/**
 * What the server holds of the things a setup file names, read with list and describe calls
 * only. Names are keyed without case, as the server compares them.
 */
import { identitySources, identitystore, organizations, portal, ssoAdmin, type OutputOf, type TypeOf } from '@airlock/protocol';
import type { Api } from './api.js';
import type { CurrentIdentitySource } from './identity-source.js';
import type { Setup } from './model.js';

export type User = TypeOf<typeof identitystore.user>;
export type Group = OutputOf<typeof identitystore.ListGroups>['Groups'][number];
export type PermissionSet = OutputOf<typeof ssoAdmin.DescribePermissionSet>['PermissionSet'];
export type Account = OutputOf<typeof organizations.ListAccounts>['Accounts'][number];
export type MfaSettings = OutputOf<typeof portal.GetMfaSettings>;

export interface CurrentPermissionSet {
  readonly permissionSet: PermissionSet;
  /** Read only for the permission sets the file names. */
  readonly inlinePolicy?: string;
  readonly managedPolicies: ReadonlySet<string>;
}

export interface CurrentState {
  readonly mfa?: MfaSettings;
  readonly groups: ReadonlyMap<string, Group>;
  readonly users: ReadonlyMap<string, User>;
  /** User id → the ids of their groups, for the users the file names. */
  readonly memberships: ReadonlyMap<string, ReadonlySet<string>>;
  readonly permissionSets: ReadonlyMap<string, CurrentPermissionSet>;
  readonly accounts: readonly Account[];
  /** `{accountId} {permissionSetArn}` → `{USER|GROUP} {principalId}`, for the pairs the file assigns (once accounts are resolved). */
  readonly assignments: ReadonlyMap<string, ReadonlySet<string>>;
  /** Read only when the file has identitySource. */
  readonly identitySource?: CurrentIdentitySource;
}

export const key = (name: string): string => name.toLowerCase();
export const assignmentsKey = (accountId: string, permissionSetArn: string): string => `${accountId} ${permissionSetArn}`;

/** Reads the current state; `resolveAccount` maps a file's account reference to an id (or undefined). */
export async function readState(api: Api, setup: Setup, resolveAccount: (accounts: readonly Account[], reference: string) => Account | undefined): Promise<CurrentState> {
  const mfa = setup.mfa === undefined ? undefined : await api.call(portal.GetMfaSettings, {});
  const identitySource = setup.identitySource === undefined ? undefined : await api.call(identitySources.GetIdentitySource, {});

  const groups = new Map<string, Group>();
  if (setup.groups.length > 0 || setup.users.length > 0 || setup.assignments.length > 0) {
    for (const group of await api.all(identitystore.ListGroups, { MaxResults: 100 }, (output) => output.Groups)) {
      if (group.DisplayName !== undefined) groups.set(key(group.DisplayName), group);
    }
  }

  const users = new Map<string, User>();
  const memberships = new Map<string, Set<string>>();
  if (setup.users.length > 0) {
    for (const user of await api.all(identitystore.ListUsers, { MaxResults: 100 }, (output) => output.Users)) {
      if (user.UserName !== undefined) users.set(key(user.UserName), user);
    }
    for (const spec of setup.users) {
      const user = users.get(key(spec.userName));
      if (user === undefined) continue;
      const found = await api.all(identitystore.ListGroupMembershipsForMember, { MemberId: { UserId: user.UserId }, MaxResults: 100 }, (output) => output.GroupMemberships);
      memberships.set(user.UserId, new Set(found.map((membership) => membership.GroupId).filter((id): id is string => id !== undefined)));
    }
  }

  const permissionSets = new Map<string, CurrentPermissionSet>();
  if (setup.permissionSets.length > 0 || setup.assignments.length > 0) {
    const named = new Set(setup.permissionSets.map((spec) => key(spec.name)));
    const arns = await api.all(ssoAdmin.ListPermissionSets, { MaxResults: 100 }, (output) => output.PermissionSets);
    for (const arn of arns) {
      const { PermissionSet: permissionSet } = await api.call(ssoAdmin.DescribePermissionSet, { PermissionSetArn: arn });
      if (!named.has(key(permissionSet.Name))) {
        permissionSets.set(key(permissionSet.Name), { permissionSet, managedPolicies: new Set() });
        continue;
      }
      const { InlinePolicy: inlinePolicy } = await api.call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: arn });
      const managed = await api.all(ssoAdmin.ListManagedPoliciesInPermissionSet, { PermissionSetArn: arn, MaxResults: 100 }, (output) => output.AttachedManagedPolicies);
      permissionSets.set(key(permissionSet.Name), {
        permissionSet,
        ...(inlinePolicy === undefined ? {} : { inlinePolicy }),
        managedPolicies: new Set(managed.map((policy) => policy.Arn)),
      });
    }
  }

  const accounts = setup.assignments.length === 0 ? [] : await api.all(organizations.ListAccounts, { MaxResults: 20 }, (output) => output.Accounts);

  const assignments = new Map<string, Set<string>>();
  for (const assignment of setup.assignments) {
    const account = resolveAccount(accounts, assignment.account);
    const permissionSet = permissionSets.get(key(assignment.permissionSet));
    if (account === undefined || permissionSet === undefined) continue;
    const pair = assignmentsKey(account.Id, permissionSet.permissionSet.PermissionSetArn);
    if (assignments.has(pair)) continue;
    const found = await api.all(
      ssoAdmin.ListAccountAssignments,
      { AccountId: account.Id, PermissionSetArn: permissionSet.permissionSet.PermissionSetArn, MaxResults: 100 },
      (output) => output.AccountAssignments,
    );
    assignments.set(pair, new Set(found.map((item) => `${item.PrincipalType} ${item.PrincipalId}`)));
  }

  return { ...(mfa === undefined ? {} : { mfa }), ...(identitySource === undefined ? {} : { identitySource }), groups, users, memberships, permissionSets, accounts, assignments };
}
