/**
 * The plan: what to create and what to update so that the server has what the setup file says.
 * Pure: it compares a checked Setup with the CurrentState read from the server. Apply never
 * deletes: what the file does not mention is left as it is, and so are fields it leaves out.
 */
import type { identitystore, InputOf, portal } from '@airlock/protocol';
import { durationSeconds, formatPath, SetupError, type GroupSpec, type PermissionSetSpec, type PrincipalType, type Problem, type Setup, type UserSpec } from './model.js';
import { planIdentitySource, type IdentitySourceInput } from './identity-source.js';
import { assignmentsKey, key, type Account, type CurrentState, type User } from './state.js';

export type AttributeOperation = InputOf<typeof identitystore.UpdateUser>['Operations'][number];

export interface PermissionSetUpdate {
  readonly Description?: string;
  readonly SessionDuration?: string;
  readonly RelayState?: string;
}

/** One write (or a short sequence of writes on one thing) for the executor to carry out. */
export type Step =
  | { readonly kind: 'putMfaSettings'; readonly input: InputOf<typeof portal.PutMfaSettings> }
  | { readonly kind: 'createGroup'; readonly group: GroupSpec }
  | { readonly kind: 'updateGroup'; readonly name: string; readonly groupId: string; readonly operations: readonly AttributeOperation[] }
  | { readonly kind: 'createUser'; readonly user: UserSpec }
  | { readonly kind: 'updateUser'; readonly userName: string; readonly userId: string; readonly operations: readonly AttributeOperation[] }
  | { readonly kind: 'addMembership'; readonly userName: string; readonly groupName: string }
  | { readonly kind: 'createPermissionSet'; readonly permissionSet: PermissionSetSpec }
  | {
      readonly kind: 'updatePermissionSet';
      readonly name: string;
      readonly arn: string;
      readonly update?: PermissionSetUpdate;
      readonly inlinePolicy?: string;
      readonly attach: readonly string[];
    }
  | {
      readonly kind: 'assign';
      readonly permissionSet: string;
      readonly accountId: string;
      readonly principalType: PrincipalType;
      readonly principalName: string;
    }
  | { readonly kind: 'putIdentitySource'; readonly input: IdentitySourceInput };

export type Action = 'create' | 'update' | 'unchanged';

export interface PlanEntry {
  readonly action: Action;
  /** What `+`, `~` or `=` is followed by: `create user testuser01 (invitation to …)`. */
  readonly text: string;
  /** Lines shown under the entry (policy warnings). */
  readonly notes: readonly string[];
  /** What to do; none when unchanged. */
  readonly step?: Step;
  /** How to say it once done: `created group ProductionAccess`. */
  readonly done: string;
}

/** Ids the server already has, by name (keyed without case); the executor adds what it creates. */
export interface KnownIds {
  readonly groups: Map<string, string>;
  readonly users: Map<string, string>;
  readonly permissionSets: Map<string, string>;
}

export interface Plan {
  readonly file: string;
  readonly entries: readonly PlanEntry[];
  readonly known: KnownIds;
}

const SYMBOL: Readonly<Record<Action, string>> = { create: '+', update: '~', unchanged: '=' };

/** The account a file's reference names: a 12-digit id, `management`, or an account's name (without case). */
export function resolveAccount(accounts: readonly Account[], reference: string): Account | undefined {
  if (/^\d{12}$/.test(reference)) return accounts.find((account) => account.Id === reference);
  if (reference.toLowerCase() === 'management') {
    // The management account is the one whose ARN is under its own id, as on AWS.
    const management = accounts.find((account) => /^arn:aws:organizations::(\d{12}):/.exec(account.Arn)?.[1] === account.Id);
    if (management !== undefined) return management;
  }
  return accounts.find((account) => account.Name.toLowerCase() === reference.toLowerCase());
}

const accountLabel = (account: Account): string => `account ${account.Name} (${account.Id})`;

/** Compares the file with the server. Throws SetupError when an assignment names an account the server does not have. */
export function makePlan(setup: Setup, state: CurrentState): Plan {
  const entries: PlanEntry[] = [];
  const add = (action: Action, text: string, done: string, step?: Step, notes: readonly string[] = []): void => {
    entries.push({ action, text, done, notes, ...(step === undefined ? {} : { step }) });
  };
  const known: KnownIds = {
    groups: new Map([...state.groups].map(([name, group]) => [name, group.GroupId])),
    users: new Map([...state.users].map(([name, user]) => [name, user.UserId])),
    permissionSets: new Map([...state.permissionSets].map(([name, current]) => [name, current.permissionSet.PermissionSetArn])),
  };

  if (setup.mfa !== undefined && state.mfa !== undefined) {
    const want = setup.mfa;
    const have = state.mfa;
    const changes: string[] = [];
    if (want.mode !== have.MfaMode) changes.push(`mode ${have.MfaMode} → ${want.mode}`);
    if ([...want.allowedTypes].sort().join(',') !== [...have.AllowedMfaTypes].sort().join(',')) changes.push(`allowed types ${have.AllowedMfaTypes.join(',')} → ${want.allowedTypes.join(',')}`);
    if (want.noDeviceAction !== have.NoDeviceAction) changes.push(`without a device ${have.NoDeviceAction} → ${want.noDeviceAction}`);
    if (want.trustedDeviceDays !== undefined && want.trustedDeviceDays !== have.TrustedDeviceDays) changes.push(`trusted device days ${have.TrustedDeviceDays} → ${want.trustedDeviceDays}`);
    if (changes.length === 0) {
      add('unchanged', 'mfa settings unchanged', '');
    } else {
      const input = { MfaMode: want.mode, AllowedMfaTypes: [...want.allowedTypes], NoDeviceAction: want.noDeviceAction, TrustedDeviceDays: want.trustedDeviceDays ?? have.TrustedDeviceDays, UserVerification: have.UserVerification };
      add('update', `update mfa settings: ${changes.join(', ')}`, `updated mfa settings: ${changes.join(', ')}`, { kind: 'putMfaSettings', input });
    }
  }

  for (const group of setup.groups) {
    const current = state.groups.get(key(group.name));
    if (current === undefined) {
      add('create', `create group ${group.name}`, `created group ${group.name}`, { kind: 'createGroup', group });
      continue;
    }
    const operations: AttributeOperation[] = [];
    const changes: string[] = [];
    if (current.DisplayName !== group.name) {
      operations.push({ AttributePath: 'displayName', AttributeValue: group.name });
      changes.push(`name ${current.DisplayName ?? ''} → ${group.name}`);
    }
    if (group.description !== undefined && group.description !== current.Description) {
      operations.push({ AttributePath: 'description', AttributeValue: group.description });
      changes.push('description');
    }
    if (operations.length === 0) add('unchanged', `group ${group.name} unchanged`, '');
    else add('update', `update group ${group.name}: ${changes.join(', ')}`, `updated group ${group.name}: ${changes.join(', ')}`, { kind: 'updateGroup', name: group.name, groupId: current.GroupId, operations });
  }

  for (const user of setup.users) {
    const current = state.users.get(key(user.userName));
    if (current === undefined) {
      const text = `create user ${user.userName} (invitation to ${user.email})`;
      add('create', text, `created user ${user.userName} and mailed an invitation to ${user.email}`, { kind: 'createUser', user });
      continue;
    }
    const { operations, changes } = userChanges(user, current);
    if (operations.length === 0) add('unchanged', `user ${user.userName} unchanged`, '');
    else add('update', `update user ${user.userName}: ${changes.join(', ')}`, `updated user ${user.userName}: ${changes.join(', ')}`, { kind: 'updateUser', userName: user.userName, userId: current.UserId, operations });
  }

  for (const user of setup.users) {
    const userId = known.users.get(key(user.userName));
    const groupIds = userId === undefined ? undefined : state.memberships.get(userId);
    for (const groupName of user.groups) {
      const groupId = known.groups.get(key(groupName));
      if (groupId !== undefined && groupIds?.has(groupId) === true) {
        add('unchanged', `user ${user.userName} is in group ${groupName}`, '');
      } else {
        add('create', `add user ${user.userName} to group ${groupName}`, `added user ${user.userName} to group ${groupName}`, { kind: 'addMembership', userName: user.userName, groupName });
      }
    }
  }

  for (const permissionSet of setup.permissionSets) {
    const current = state.permissionSets.get(key(permissionSet.name));
    const notes = (permissionSet.policy?.warnings ?? []).map(
      (finding) => `warning: ${permissionSet.policy?.file ?? ''}: ${finding.issueCode}${finding.path === '' ? '' : ` at ${finding.path}`}: ${finding.findingDetails}`,
    );
    if (current === undefined) {
      const details = [
        `session ${permissionSet.sessionDuration ?? 'PT1H'}`,
        ...(permissionSet.policy === undefined ? [] : [`inline policy ${permissionSet.policy.file}`]),
        ...permissionSet.managedPolicies.map((arn) => `managed policy ${arn.slice(arn.lastIndexOf('/') + 1)}`),
        ...(Object.keys(permissionSet.tags).length === 0 ? [] : [`tags ${Object.entries(permissionSet.tags).map(([k, v]) => `${k}=${v}`).join(',')}`]),
      ];
      add('create', `create permission set ${permissionSet.name} (${details.join(', ')})`, `created permission set ${permissionSet.name}`, { kind: 'createPermissionSet', permissionSet }, notes);
      continue;
    }
    const have = current.permissionSet;
    const changes: string[] = [];
    const update: { Description?: string; SessionDuration?: string; RelayState?: string } = {};
    if (permissionSet.description !== undefined && permissionSet.description !== have.Description) {
      update.Description = permissionSet.description;
      changes.push('description');
    }
    if (permissionSet.sessionDuration !== undefined && durationSeconds(permissionSet.sessionDuration) !== durationSeconds(have.SessionDuration)) {
      update.SessionDuration = permissionSet.sessionDuration;
      changes.push(`session duration ${have.SessionDuration} → ${permissionSet.sessionDuration}`);
    }
    if (permissionSet.relayState !== undefined && permissionSet.relayState !== have.RelayState) {
      update.RelayState = permissionSet.relayState;
      changes.push('relay state');
    }
    const policy = permissionSet.policy;
    const policyChanged = policy !== undefined && !sameDocument(current.inlinePolicy, policy.document);
    if (policyChanged) changes.push('inline policy');
    const attach = permissionSet.managedPolicies.filter((arn) => !current.managedPolicies.has(arn));
    changes.push(...attach.map((arn) => `attach ${arn.slice(arn.lastIndexOf('/') + 1)}`));
    if (changes.length === 0) {
      add('unchanged', `permission set ${permissionSet.name} unchanged`, '');
      continue;
    }
    add(
      'update',
      `update permission set ${permissionSet.name}: ${changes.join(', ')}`,
      `updated permission set ${permissionSet.name}: ${changes.join(', ')}`,
      {
        kind: 'updatePermissionSet',
        name: permissionSet.name,
        arn: have.PermissionSetArn,
        ...(Object.keys(update).length === 0 ? {} : { update }),
        ...(policyChanged ? { inlinePolicy: policy.text } : {}),
        attach,
      },
      policyChanged ? notes : [],
    );
  }

  const problems: Problem[] = [];
  for (const assignment of setup.assignments) {
    const account = resolveAccount(state.accounts, assignment.account);
    if (account === undefined) {
      const names = state.accounts.map((item) => `${item.Name} (${item.Id})`).join(', ');
      problems.push({
        location: assignment.accountLocation,
        path: formatPath([...assignment.path, 'account']),
        message: `the organization has no account "${assignment.account}"; it has ${names === '' ? 'none' : names}`,
      });
      continue;
    }
    const principal = `${assignment.principalType === 'GROUP' ? 'group' : 'user'} ${assignment.principalName}`;
    const arn = known.permissionSets.get(key(assignment.permissionSet));
    const principalId = (assignment.principalType === 'GROUP' ? known.groups : known.users).get(key(assignment.principalName));
    const existing = arn === undefined ? undefined : state.assignments.get(assignmentsKey(account.Id, arn));
    if (principalId !== undefined && existing?.has(`${assignment.principalType} ${principalId}`) === true) {
      add('unchanged', `${principal} has permission set ${assignment.permissionSet} in ${accountLabel(account)}`, '');
    } else {
      add('create', `assign permission set ${assignment.permissionSet} to ${principal} in ${accountLabel(account)}`, `assigned permission set ${assignment.permissionSet} to ${principal} in ${accountLabel(account)}`, {
        kind: 'assign',
        permissionSet: assignment.permissionSet,
        accountId: account.Id,
        principalType: assignment.principalType,
        principalName: assignment.principalName,
      });
    }
  }
  if (setup.identitySource !== undefined && state.identitySource !== undefined) {
    const source = planIdentitySource(setup.identitySource, state.identitySource);
    if (source.action === 'refused') problems.push({ location: setup.file, path: formatPath(source.path), message: source.message });
    else if (source.action === 'unchanged') add('unchanged', source.text, '');
    else add('update', source.text, source.text.replace(/^change/, 'changed').replace(/^update/, 'updated'), { kind: 'putIdentitySource', input: source.input });
  }
  if (problems.length > 0) throw new SetupError(problems);

  return { file: setup.file, entries, known };
}

function userChanges(user: UserSpec, current: User): { operations: AttributeOperation[]; changes: string[] } {
  const operations: AttributeOperation[] = [];
  const changes: string[] = [];
  if (user.displayName !== undefined && user.displayName !== current.DisplayName) {
    operations.push({ AttributePath: 'displayName', AttributeValue: user.displayName });
    changes.push('display name');
  }
  if (user.givenName !== undefined && user.givenName !== current.Name?.GivenName) {
    operations.push({ AttributePath: 'name.givenName', AttributeValue: user.givenName });
    changes.push('given name');
  }
  if (user.familyName !== undefined && user.familyName !== current.Name?.FamilyName) {
    operations.push({ AttributePath: 'name.familyName', AttributeValue: user.familyName });
    changes.push('family name');
  }
  const email = current.Emails?.[0];
  if (email?.Value?.toLowerCase() !== user.email.toLowerCase()) {
    operations.push({ AttributePath: 'emails', AttributeValue: [{ ...email, Value: user.email, Primary: true }] });
    changes.push(`email ${user.email}`);
  }
  const attributes = current.Attributes ?? {};
  const differing = Object.entries(user.attributes).filter(([name, value]) => attributes[name] !== value);
  if (differing.length > 0) {
    // The whole map is set, with the user's other attributes kept: apply removes nothing.
    operations.push({ AttributePath: 'attributes', AttributeValue: { ...attributes, ...user.attributes } });
    changes.push(`attribute${differing.length === 1 ? '' : 's'} ${differing.map(([name]) => name).join(', ')}`);
  }
  return { operations, changes };
}

/** Whether the server's policy text says the same as the file's document (as parsed JSON, not as text). */
function sameDocument(text: string | undefined, document: unknown): boolean {
  if (text === undefined) return false;
  try {
    return sameJson(JSON.parse(text), document);
  } catch {
    return false;
  }
}

export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => sameJson(item, b[index]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((name) => Object.hasOwn(right, name) && sameJson(left[name], right[name]));
}

export function renderEntry(entry: PlanEntry): string[] {
  return [`${SYMBOL[entry.action]} ${entry.text}`, ...entry.notes.map((note) => `    ${note}`)];
}

export function counts(plan: Plan): Readonly<Record<Action, number>> {
  const result: Record<Action, number> = { create: 0, update: 0, unchanged: 0 };
  for (const entry of plan.entries) result[entry.action]++;
  return result;
}

export function summary(plan: Plan): string {
  const { create, update, unchanged } = counts(plan);
  if (create === 0 && update === 0) return `No changes: the server already has everything ${plan.file} describes (${unchanged} item${unchanged === 1 ? '' : 's'} checked).`;
  return `Plan: ${create} to create, ${update} to update, ${unchanged} unchanged.`;
}
