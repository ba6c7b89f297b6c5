/**
 * Service `sso` (IAM Identity Center's SSO Admin API): permission sets, their policies, and the
 * assignments that give a user or group a permission set in an account. InstanceArn is optional
 * everywhere: Airlock is one instance.
 */
import { accountId } from './organizations.js';
import { operation } from './operation.js';
import { s } from './schema.js';

const instanceArn = s.string({ min: 10, max: 1224, pattern: /^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/, doc: 'Optional: Airlock is one instance.' });
export const permissionSetArn = s.string({ min: 10, max: 1224, pattern: /^arn:aws:sso:::permissionSet\/ssoins-[0-9a-f]{16}\/ps-[0-9a-f]{16}$/ });
const instance = { InstanceArn: s.optional(instanceArn) };
const page = { MaxResults: s.optional(s.integer({ min: 1, max: 100 })), NextToken: s.optional(s.string({ max: 100_000 })) };
const sessionDuration = s.string({ min: 4, max: 100, pattern: /^PT(?:\d+H)?(?:\d+M)?(?:\d+S)?$/, doc: 'ISO 8601, PT1H (default) to PT12H.' });
const tag = s.struct({ Key: s.required(s.string({ min: 1, max: 128 })), Value: s.required(s.string({ max: 256 })) });

export const PERMISSION_SET_NAME = /^[\w+=,.@-]+$/;

const permissionSet = s.struct({
  Name: s.required(s.string()),
  PermissionSetArn: s.required(permissionSetArn),
  Description: s.optional(s.string()),
  CreatedDate: s.required(s.timestamp()),
  SessionDuration: s.required(s.string()),
  RelayState: s.optional(s.string()),
});

export const CreatePermissionSet = operation({
  service: 'sso',
  name: 'CreatePermissionSet',
  summary: 'Create a permission set: a policy and a session duration, to assign in accounts.',
  input: s.struct({
    ...instance,
    Name: s.required(s.string({ min: 1, max: 32, pattern: PERMISSION_SET_NAME, doc: 'Letters, digits and + = , . @ - _; no spaces.' })),
    Description: s.optional(s.string({ min: 1, max: 700 })),
    SessionDuration: s.optional(sessionDuration),
    RelayState: s.optional(s.string({ min: 1, max: 240 })),
    Tags: s.optional(s.list(tag, { max: 75 })),
  }),
  output: s.struct({ PermissionSet: s.required(permissionSet) }),
});

const target = { ...instance, PermissionSetArn: s.required(permissionSetArn) };

export const DescribePermissionSet = operation({
  service: 'sso',
  name: 'DescribePermissionSet',
  summary: 'A permission set.',
  input: s.struct(target),
  output: s.struct({ PermissionSet: s.required(permissionSet) }),
});

export const ListPermissionSets = operation({
  service: 'sso',
  name: 'ListPermissionSets',
  summary: 'The ARNs of all permission sets.',
  input: s.struct({ ...instance, ...page }),
  output: s.struct({ PermissionSets: s.required(s.list(permissionSetArn)), NextToken: s.optional(s.string()) }),
});

export const UpdatePermissionSet = operation({
  service: 'sso',
  name: 'UpdatePermissionSet',
  summary: "Change a permission set's description, session duration or relay state.",
  input: s.struct({ ...target, Description: s.optional(s.string({ min: 1, max: 700 })), SessionDuration: s.optional(sessionDuration), RelayState: s.optional(s.string({ min: 1, max: 240 })) }),
  output: s.struct({}),
});

export const DeletePermissionSet = operation({
  service: 'sso',
  name: 'DeletePermissionSet',
  summary: 'Delete a permission set; refused while it is assigned in any account.',
  input: s.struct(target),
  output: s.struct({}),
});

export const PutInlinePolicyToPermissionSet = operation({
  service: 'sso',
  name: 'PutInlinePolicyToPermissionSet',
  summary: "Set the permission set's inline policy; a policy with ERROR findings is refused, with the findings.",
  input: s.struct({ ...target, InlinePolicy: s.required(s.string({ min: 1, max: 32_768 })) }),
  output: s.struct({}),
});

export const GetInlinePolicyForPermissionSet = operation({
  service: 'sso',
  name: 'GetInlinePolicyForPermissionSet',
  summary: "The permission set's inline policy, as it was put.",
  input: s.struct(target),
  output: s.struct({ InlinePolicy: s.optional(s.string()) }),
});

export const DeleteInlinePolicyFromPermissionSet = operation({
  service: 'sso',
  name: 'DeleteInlinePolicyFromPermissionSet',
  summary: "Remove the permission set's inline policy.",
  input: s.struct(target),
  output: s.struct({}),
});

const managedPolicyArn = s.string({ min: 20, max: 2048, pattern: /^arn:aws:iam::aws:policy\/[\w+=,.@/-]+$/, doc: 'arn:aws:iam::aws:policy/AdministratorAccess, ReadOnlyAccess or AirlockSessionManagerAccess.' });

export const AttachManagedPolicyToPermissionSet = operation({
  service: 'sso',
  name: 'AttachManagedPolicyToPermissionSet',
  summary: 'Attach a built-in managed policy (AdministratorAccess, ReadOnlyAccess, AirlockSessionManagerAccess).',
  input: s.struct({ ...target, ManagedPolicyArn: s.required(managedPolicyArn) }),
  output: s.struct({}),
});

export const DetachManagedPolicyFromPermissionSet = operation({
  service: 'sso',
  name: 'DetachManagedPolicyFromPermissionSet',
  summary: 'Detach a managed policy.',
  input: s.struct({ ...target, ManagedPolicyArn: s.required(managedPolicyArn) }),
  output: s.struct({}),
});

export const ListManagedPoliciesInPermissionSet = operation({
  service: 'sso',
  name: 'ListManagedPoliciesInPermissionSet',
  summary: 'The managed policies attached to a permission set.',
  input: s.struct({ ...target, ...page }),
  output: s.struct({ AttachedManagedPolicies: s.required(s.list(s.struct({ Arn: s.required(s.string()), Name: s.required(s.string()) }))), NextToken: s.optional(s.string()) }),
});

const status = s.enum(['IN_PROGRESS', 'FAILED', 'SUCCEEDED'] as const);
const provisioningStatus = s.struct({
  Status: s.required(status),
  RequestId: s.required(s.string()),
  AccountId: s.optional(accountId),
  PermissionSetArn: s.required(permissionSetArn),
  FailureReason: s.optional(s.string()),
  CreatedDate: s.required(s.timestamp()),
});

export const ProvisionPermissionSet = operation({
  service: 'sso',
  name: 'ProvisionPermissionSet',
  summary: 'Provision a permission set to an account (or all where it is assigned). In Airlock policy changes apply at the next call; this records the provisioning.',
  input: s.struct({ ...target, TargetId: s.optional(accountId), TargetType: s.required(s.enum(['AWS_ACCOUNT', 'ALL_PROVISIONED_ACCOUNTS'] as const)) }),
  output: s.struct({ PermissionSetProvisioningStatus: s.required(provisioningStatus) }),
});

export const DescribePermissionSetProvisioningStatus = operation({
  service: 'sso',
  name: 'DescribePermissionSetProvisioningStatus',
  summary: 'The status of a ProvisionPermissionSet request.',
  input: s.struct({ ...instance, ProvisionPermissionSetRequestId: s.required(s.string({ min: 1, max: 64 })) }),
  output: s.struct({ PermissionSetProvisioningStatus: s.required(provisioningStatus) }),
});

const assignment = {
  ...instance,
  TargetId: s.required(accountId),
  TargetType: s.required(s.enum(['AWS_ACCOUNT'] as const)),
  PermissionSetArn: s.required(permissionSetArn),
  PrincipalType: s.required(s.enum(['USER', 'GROUP'] as const)),
  PrincipalId: s.required(s.string({ min: 1, max: 47 })),
};
const assignmentStatus = s.struct({
  Status: s.required(status),
  RequestId: s.required(s.string()),
  FailureReason: s.optional(s.string()),
  TargetId: s.required(accountId),
  TargetType: s.required(s.enum(['AWS_ACCOUNT'] as const)),
  PermissionSetArn: s.required(permissionSetArn),
  PrincipalType: s.required(s.enum(['USER', 'GROUP'] as const)),
  PrincipalId: s.required(s.string()),
  CreatedDate: s.required(s.timestamp()),
});

export const CreateAccountAssignment = operation({
  service: 'sso',
  name: 'CreateAccountAssignment',
  summary: 'Give a user or group a permission set in an account (provisions it there).',
  input: s.struct(assignment),
  output: s.struct({ AccountAssignmentCreationStatus: s.required(assignmentStatus) }),
});

export const DescribeAccountAssignmentCreationStatus = operation({
  service: 'sso',
  name: 'DescribeAccountAssignmentCreationStatus',
  summary: 'The status of a CreateAccountAssignment request.',
  input: s.struct({ ...instance, AccountAssignmentCreationRequestId: s.required(s.string({ min: 1, max: 64 })) }),
  output: s.struct({ AccountAssignmentCreationStatus: s.required(assignmentStatus) }),
});

export const DeleteAccountAssignment = operation({
  service: 'sso',
  name: 'DeleteAccountAssignment',
  summary: 'Take a permission set away from a user or group in an account; their next role session is refused.',
  input: s.struct(assignment),
  output: s.struct({ AccountAssignmentDeletionStatus: s.required(assignmentStatus) }),
});

export const ListAccountAssignments = operation({
  service: 'sso',
  name: 'ListAccountAssignments',
  summary: 'Who has a permission set in an account.',
  input: s.struct({ ...instance, AccountId: s.required(accountId), PermissionSetArn: s.required(permissionSetArn), ...page }),
  output: s.struct({
    AccountAssignments: s.required(
      s.list(s.struct({ AccountId: s.required(accountId), PermissionSetArn: s.required(permissionSetArn), PrincipalType: s.required(s.enum(['USER', 'GROUP'] as const)), PrincipalId: s.required(s.string()) })),
    ),
    NextToken: s.optional(s.string()),
  }),
});

export const ListAccountsForProvisionedPermissionSet = operation({
  service: 'sso',
  name: 'ListAccountsForProvisionedPermissionSet',
  summary: 'The accounts where a permission set is provisioned.',
  input: s.struct({ ...target, ...page }),
  output: s.struct({ AccountIds: s.required(s.list(accountId)), NextToken: s.optional(s.string()) }),
});

export const RevokeRoleSessions = operation({
  service: 'sso',
  name: 'RevokeRoleSessions',
  summary: "Airlock's own: end a user's live role sessions now (all, or those of one permission set).",
  input: s.struct({ ...instance, UserId: s.required(s.string({ min: 1, max: 47 })), PermissionSetArn: s.optional(permissionSetArn) }),
  output: s.struct({ Revoked: s.required(s.integer()) }),
});

export const SSO_ADMIN_OPERATIONS = [
  CreatePermissionSet,
  DescribePermissionSet,
  ListPermissionSets,
  UpdatePermissionSet,
  DeletePermissionSet,
  PutInlinePolicyToPermissionSet,
  GetInlinePolicyForPermissionSet,
  DeleteInlinePolicyFromPermissionSet,
  AttachManagedPolicyToPermissionSet,
  DetachManagedPolicyFromPermissionSet,
  ListManagedPoliciesInPermissionSet,
  ProvisionPermissionSet,
  DescribePermissionSetProvisioningStatus,
  CreateAccountAssignment,
  DescribeAccountAssignmentCreationStatus,
  DeleteAccountAssignment,
  ListAccountAssignments,
  ListAccountsForProvisionedPermissionSet,
  RevokeRoleSessions,
] as const;
