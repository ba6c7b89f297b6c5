/**
 * The resources a call named, for LookupEvents' Resources and its ResourceName/ResourceType
 * filters: the ARNs and ids in the recorded request and response, by their field names (the
 * request's top level and the objects in it; lists, such as a List operation's items, are not
 * read). Only what the record itself holds counts, so a redacted value is never indexed.
 */
import { ownValue } from '@airlock/protocol';
import { field } from './chain.js';

export interface AuditResource {
  readonly type: string;
  readonly name: string;
}

const MAX_RESOURCES = 20;
const MAX_NAME = 2000;
const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

/** Fields that hold an id of a known type, whatever the operation. */
const ID_FIELDS: Readonly<Record<string, string>> = {
  UserId: 'AWS::IdentityStore::User',
  UserName: 'AWS::IdentityStore::User',
  GroupId: 'AWS::IdentityStore::Group',
  MembershipId: 'AWS::IdentityStore::GroupMembership',
  AccountId: 'AWS::Organizations::Account',
  SessionId: 'AWS::SSM::Session',
  DocumentName: 'AWS::SSM::Document',
  ActivationId: 'AWS::SSM::Activation',
  logGroupName: 'AWS::Logs::LogGroup',
};

const SERVICE_NAMES: Readonly<Record<string, string>> = {
  ec2: 'EC2',
  iam: 'IAM',
  identitystore: 'IdentityStore',
  logs: 'Logs',
  organizations: 'Organizations',
  s3: 'S3',
  sso: 'SSO',
  ssm: 'SSM',
  sts: 'STS',
};

const pascal = (word: string): string =>
  word
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** arn:aws:sso:::permissionSet/ssoins-…/ps-… → AWS::SSO::PermissionSet */
export function arnType(arn: string): string | undefined {
  const parts = arn.split(':');
  const service = parts[2];
  const resource = parts.slice(5).join(':');
  if (parts.length < 6 || service === undefined || service === '' || resource === '') return undefined;
  const kind = resource.split(/[/:]/)[0] ?? '';
  return `AWS::${ownValue(SERVICE_NAMES, service) ?? pascal(service)}::${pascal(kind === '' ? service : kind)}`;
}

function instanceType(id: string): string | undefined {
  if (id.startsWith('i-')) return 'AWS::EC2::Instance';
  if (id.startsWith('mi-')) return 'AWS::SSM::ManagedInstance';
  return undefined;
}

/** The type of the resource a member names, or undefined when it names none. */
function typeOf(key: string, value: string, parent: Readonly<Record<string, unknown>>): string | undefined {
  if (key.endsWith('Arn') && value.startsWith('arn:')) return arnType(value);
  const known = ownValue(ID_FIELDS, key);
  if (known !== undefined) return known;
  switch (key) {
    case 'Target':
    case 'InstanceId':
      return instanceType(value);
    case 'TargetId':
      return parent['TargetType'] === 'AWS_ACCOUNT' ? 'AWS::Organizations::Account' : undefined;
    case 'PrincipalId':
      if (parent['PrincipalType'] === 'USER') return 'AWS::IdentityStore::User';
      return parent['PrincipalType'] === 'GROUP' ? 'AWS::IdentityStore::Group' : undefined;
    default:
      return undefined;
  }
}

/** The resources of a record, in the order its fields name them, each once. */
export function resourcesOf(record: unknown): AuditResource[] {
  const found = new Map<string, AuditResource>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const object = value as Record<string, unknown>;
    for (const [key, member] of Object.entries(object)) {
      if (found.size >= MAX_RESOURCES) return;
      if (typeof member === 'string') {
        if (member === '' || member === HIDDEN || member.length > MAX_NAME) continue;
        const type = typeOf(key, member, object);
        if (type !== undefined) found.set(`${type}\u0000${member}`, { type, name: member });
      } else if (depth < 2) {
        visit(member, depth + 1);
      }
    }
  };
  visit(field(record, 'requestParameters'), 1);
  visit(field(record, 'responseElements'), 1);
  return [...found.values()];
}
