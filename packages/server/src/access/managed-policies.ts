/**
 * The managed policies Airlock ships, under AWS's ARN form `arn:aws:iam::aws:policy/{Name}`.
 * They are documents like any other: the policy engine compiles them once.
 */
import { compilePolicy, type CompiledPolicy, type JsonValue } from '@airlock/policy';

const READ_ONLY_VERBS = ['Describe*', 'Get*', 'List*', 'Is*', 'LookupEvents', 'FilterLogEvents'];
const SERVICES = ['ssm', 'ec2', 'identitystore', 'sso', 'organizations', 'logs', 'cloudtrail', 'sts'];

const DOCUMENTS: Readonly<Record<string, JsonValue>> = {
  AdministratorAccess: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  ReadOnlyAccess: {
    Version: '2012-10-17',
    Statement: [{ Sid: 'ReadOnly', Effect: 'Allow', Action: SERVICES.flatMap((service) => READ_ONLY_VERBS.map((verb) => `${service}:${verb}`)), Resource: '*' }],
  },
  // What a Session Manager user needs on any instance: list, connect, and end their own sessions.
  AirlockSessionManagerAccess: {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Discover', Effect: 'Allow', Action: ['ssm:DescribeSessions', 'ssm:DescribeInstanceProperties', 'ssm:DescribeInstanceInformation', 'ec2:DescribeInstances', 'ssm:GetConnectionStatus'], Resource: '*' },
      { Sid: 'Connect', Effect: 'Allow', Action: 'ssm:StartSession', Resource: ['arn:aws:ec2:*:*:instance/*', 'arn:aws:ssm:*:*:managed-instance/*', 'arn:aws:ssm:*::document/AWS-*'] },
      { Sid: 'OwnSessions', Effect: 'Allow', Action: ['ssm:TerminateSession', 'ssm:ResumeSession'], Resource: 'arn:aws:ssm:*:*:session/${aws:username}-*' },
    ],
  },
};

export const MANAGED_POLICY_PREFIX = 'arn:aws:iam::aws:policy/';

const compiled = new Map(Object.entries(DOCUMENTS).map(([name, document]) => [`${MANAGED_POLICY_PREFIX}${name}`, compilePolicy(document, { name })]));

export function managedPolicy(arn: string): CompiledPolicy | undefined {
  return compiled.get(arn);
}

export const MANAGED_POLICY_ARNS: readonly string[] = [...compiled.keys()];
