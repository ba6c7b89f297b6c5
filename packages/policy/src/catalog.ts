/**
 * The actions Airlock knows, by service, with the service-specific condition keys each one
 * supports. Validation uses it to warn about unknown actions and unsupported keys; evaluation
 * never needs it. Global `aws:` keys are supported by every action.
 *
 * The list follows AWS's names for the operations Airlock implements or plans to; the server
 * passes its own operation registry in its place once that exists.
 */

export interface ActionInfo {
  /** As AWS spells it: `ssm:StartSession`. */
  readonly name: string;
  /** Lower-cased condition keys; a key ending in `/` is a prefix (`ssm:resourcetag/`). */
  readonly conditionKeys: readonly string[];
}

export interface ActionCatalog {
  /** Lower-cased service prefix → lower-cased action name → action. */
  readonly services: ReadonlyMap<string, ReadonlyMap<string, ActionInfo>>;
}

export function buildCatalog(actions: readonly { name: string; conditionKeys?: readonly string[] }[]): ActionCatalog {
  const services = new Map<string, Map<string, ActionInfo>>();
  for (const action of actions) {
    const [service = '', operation = ''] = action.name.toLowerCase().split(':');
    let byName = services.get(service);
    if (byName === undefined) services.set(service, (byName = new Map<string, ActionInfo>()));
    byName.set(operation, { name: action.name, conditionKeys: (action.conditionKeys ?? []).map((key) => key.toLowerCase()) });
  }
  return { services };
}

export function keySupported(action: ActionInfo, key: string): boolean {
  if (key.startsWith('aws:')) return true;
  return action.conditionKeys.some((supported) => (supported.endsWith('/') ? key.startsWith(supported) : key === supported));
}

const SESSION_TARGET_KEYS = ['ssm:resourceTag/', 'ssm:SessionDocumentAccessCheck'];
const SESSION_KEYS = ['ssm:resourceTag/'];

const names = (service: string, operations: string, conditionKeys: readonly string[] = []) =>
  operations
    .trim()
    .split(/\s+/)
    .map((operation) => ({ name: `${service}:${operation}`, conditionKeys }));

export const AIRLOCK_ACTIONS: ActionCatalog = buildCatalog([
  ...names('ssm', 'StartSession', SESSION_TARGET_KEYS),
  ...names('ssm', 'ResumeSession TerminateSession GetSessionRecording', SESSION_KEYS),
  ...names(
    'ssm',
    `DescribeSessions SimulateStartSession GetConnectionStatus DescribeInstanceInformation DescribeInstanceProperties
     CreateActivation DescribeActivations DeleteActivation DeregisterManagedInstance
     GetServiceSetting UpdateServiceSetting ResetServiceSetting
     CreateDocument GetDocument UpdateDocument DescribeDocument ListDocuments DeleteDocument
     UpdateDocumentDefaultVersion DescribeDocumentPermission ModifyDocumentPermission
     AddTagsToResource RemoveTagsFromResource ListTagsForResource GetInventory`,
    SESSION_KEYS,
  ),
  ...names('ec2', 'DescribeInstances DescribeTags'),
  ...names('ec2', 'CreateTags DeleteTags', ['ec2:ResourceTag/']),
  ...names(
    'identitystore',
    `CreateUser DescribeUser ListUsers UpdateUser DeleteUser GetUserId
     CreateGroup DescribeGroup ListGroups UpdateGroup DeleteGroup GetGroupId
     CreateGroupMembership DeleteGroupMembership DescribeGroupMembership ListGroupMemberships
     ListGroupMembershipsForMember IsMemberInGroups GetGroupMembershipId ResetUserPassword
     ListMfaDevicesForUser DeleteMfaDeviceForUser`,
  ),
  ...names(
    'sso',
    `CreatePermissionSet DescribePermissionSet ListPermissionSets UpdatePermissionSet DeletePermissionSet
     PutInlinePolicyToPermissionSet GetInlinePolicyForPermissionSet DeleteInlinePolicyFromPermissionSet
     AttachManagedPolicyToPermissionSet DetachManagedPolicyFromPermissionSet ListManagedPoliciesInPermissionSet
     ProvisionPermissionSet DescribePermissionSetProvisioningStatus ListPermissionSetProvisioningStatus
     CreateAccountAssignment DeleteAccountAssignment ListAccountAssignments
     DescribeAccountAssignmentCreationStatus DescribeAccountAssignmentDeletionStatus
     ListAccountsForProvisionedPermissionSet ListPermissionSetsProvisionedToAccount
     TagResource UntagResource ListTagsForResource ListInstances DescribeInstance RevokeRoleSessions`,
  ),
  ...names('organizations', 'CreateAccount DescribeAccount ListAccounts DescribeOrganization'),
  ...names('sts', 'GetCallerIdentity'),
  ...names('sso', 'PutMfaSettings GetMfaSettings PutIdentitySource GetIdentitySource'),
  ...names('sso', 'CreateScimAccessToken ListScimAccessTokens DeleteScimAccessToken'),
  ...names(
    'logs',
    `CreateLogGroup DeleteLogGroup DescribeLogGroups CreateLogStream DeleteLogStream DescribeLogStreams
     PutLogEvents GetLogEvents FilterLogEvents PutRetentionPolicy DeleteRetentionPolicy`,
  ),
  ...names('cloudtrail', 'LookupEvents'),
  ...names('events', 'PutRule DeleteRule DescribeRule ListRules PutTargets RemoveTargets ListTargetsByRule TestEventPattern ListRuleDeliveries'),
  ...names('sns', 'CreateTopic DeleteTopic ListTopics Subscribe Unsubscribe ListSubscriptions Publish'),
  ...names('s3', 'CreateBucket ListBucket GetObject PutObject DeleteObject GetEncryptionConfiguration'),
]);
