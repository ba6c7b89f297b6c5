/**
 * Carries out a plan in its order, which is the order things depend on each other: MFA
 * settings, groups, users, memberships, permission sets with their policies, assignments.
 * Ids of what it creates are remembered for the steps that follow. It stops at the first
 * refusal; what was done stays done, and applying the file again continues from there.
 */
import { identitySources, identitystore, portal, ssoAdmin, type InputOf } from '@airlock/protocol';
import type { Api } from './api.js';
import type { PermissionSetSpec, UserSpec } from './model.js';
import type { KnownIds, Plan, PlanEntry, Step } from './planner.js';
import { key } from './state.js';

export interface Progress {
  readonly created: number;
  readonly updated: number;
}

/** Runs every step of the plan; `report` is told each one as it completes. */
export async function executePlan(plan: Plan, api: Api, report: (entry: PlanEntry) => void): Promise<Progress> {
  let created = 0;
  let updated = 0;
  for (const entry of plan.entries) {
    if (entry.step === undefined) continue;
    await runStep(entry.step, api, plan.known);
    if (entry.action === 'create') created++;
    else updated++;
    report(entry);
  }
  return { created, updated };
}

async function runStep(step: Step, api: Api, known: KnownIds): Promise<void> {
  switch (step.kind) {
    case 'putMfaSettings':
      await api.call(portal.PutMfaSettings, step.input);
      return;
    case 'putIdentitySource':
      await api.call(identitySources.PutIdentitySource, step.input);
      return;
    case 'createGroup': {
      const { GroupId } = await api.call(identitystore.CreateGroup, {
        DisplayName: step.group.name,
        ...(step.group.description === undefined ? {} : { Description: step.group.description }),
      });
      known.groups.set(key(step.group.name), GroupId);
      return;
    }
    case 'updateGroup':
      await api.call(identitystore.UpdateGroup, { GroupId: step.groupId, Operations: [...step.operations] });
      return;
    case 'createUser': {
      const { UserId } = await api.call(identitystore.CreateUser, createUserInput(step.user));
      known.users.set(key(step.user.userName), UserId);
      return;
    }
    case 'updateUser':
      await api.call(identitystore.UpdateUser, { UserId: step.userId, Operations: [...step.operations] });
      return;
    case 'addMembership':
      await api.call(identitystore.CreateGroupMembership, {
        GroupId: idOf(known.groups, step.groupName, 'group'),
        MemberId: { UserId: idOf(known.users, step.userName, 'user') },
      });
      return;
    case 'createPermissionSet': {
      const { PermissionSet } = await api.call(ssoAdmin.CreatePermissionSet, createPermissionSetInput(step.permissionSet));
      const arn = PermissionSet.PermissionSetArn;
      known.permissionSets.set(key(step.permissionSet.name), arn);
      if (step.permissionSet.policy !== undefined) {
        await api.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: arn, InlinePolicy: step.permissionSet.policy.text });
      }
      for (const policy of step.permissionSet.managedPolicies) {
        await api.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: arn, ManagedPolicyArn: policy });
      }
      return;
    }
    case 'updatePermissionSet':
      if (step.update !== undefined) await api.call(ssoAdmin.UpdatePermissionSet, { PermissionSetArn: step.arn, ...step.update });
      if (step.inlinePolicy !== undefined) await api.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: step.arn, InlinePolicy: step.inlinePolicy });
      for (const policy of step.attach) await api.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: step.arn, ManagedPolicyArn: policy });
      return;
    case 'assign': {
      const input = {
        TargetId: step.accountId,
        TargetType: 'AWS_ACCOUNT' as const,
        PermissionSetArn: idOf(known.permissionSets, step.permissionSet, 'permission set'),
        PrincipalType: step.principalType,
        PrincipalId: idOf(step.principalType === 'GROUP' ? known.groups : known.users, step.principalName, step.principalType === 'GROUP' ? 'group' : 'user'),
      };
      let { AccountAssignmentCreationStatus: status } = await api.call(ssoAdmin.CreateAccountAssignment, input);
      // Airlock completes assignments at once; AWS reports IN_PROGRESS first, so wait as its CLI users do.
      for (let attempt = 0; status.Status === 'IN_PROGRESS' && attempt < 60; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        ({ AccountAssignmentCreationStatus: status } = await api.call(ssoAdmin.DescribeAccountAssignmentCreationStatus, { AccountAssignmentCreationRequestId: status.RequestId }));
      }
      if (status.Status !== 'SUCCEEDED') {
        throw new Error(`the assignment of ${step.permissionSet} to ${step.principalName} in ${step.accountId} ${status.Status === 'FAILED' ? `failed: ${status.FailureReason ?? 'no reason given'}` : 'did not complete in a minute'}`);
      }
      return;
    }
  }
}

function idOf(ids: ReadonlyMap<string, string>, name: string, what: string): string {
  const id = ids.get(key(name));
  // The plan puts every creation before its use, so this is a bug, not a user's mistake.
  if (id === undefined) throw new Error(`apply: no id for ${what} ${name}; it should have been created earlier in the plan`);
  return id;
}

export function createUserInput(user: UserSpec): InputOf<typeof identitystore.CreateUser> {
  const name = {
    ...(user.givenName === undefined ? {} : { GivenName: user.givenName }),
    ...(user.familyName === undefined ? {} : { FamilyName: user.familyName }),
  };
  return {
    UserName: user.userName,
    ...(user.displayName === undefined ? {} : { DisplayName: user.displayName }),
    ...(Object.keys(name).length === 0 ? {} : { Name: name }),
    Emails: [{ Value: user.email, Type: 'work', Primary: true }],
    ...(Object.keys(user.attributes).length === 0 ? {} : { Attributes: { ...user.attributes } }),
    PasswordSetup: 'EMAIL_INVITATION',
  };
}

function createPermissionSetInput(permissionSet: PermissionSetSpec): InputOf<typeof ssoAdmin.CreatePermissionSet> {
  const tags = Object.entries(permissionSet.tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    Name: permissionSet.name,
    ...(permissionSet.description === undefined ? {} : { Description: permissionSet.description }),
    ...(permissionSet.sessionDuration === undefined ? {} : { SessionDuration: permissionSet.sessionDuration }),
    ...(permissionSet.relayState === undefined ? {} : { RelayState: permissionSet.relayState }),
    ...(tags.length === 0 ? {} : { Tags: tags }),
  };
}
