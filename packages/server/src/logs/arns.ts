/**
 * The ARNs of log groups and streams, and what the access check is given for each operation.
 *
 * AWS checks every logs action against `arn:aws:logs:{region}:{account}:log-group:{group}:log-stream:{stream}`,
 * the parts that do not apply left empty: `…:log-group:NAME:log-stream:` for what acts on a group
 * (CreateLogGroup, DescribeLogStreams, PutRetentionPolicy, FilterLogEvents…), the stream's own
 * ARN for what acts on a stream (CreateLogStream, PutLogEvents, GetLogEvents), and
 * `…:log-group::log-stream:` for DescribeLogGroups. So `log-group:NAME:*` allows everything in a
 * group, and `log-group:*` everything, as in the guide's recording policy.
 */
import { ApiError, logs as api } from '@airlock/protocol';
import { callerAccount } from '../identity/principal.js';
import type { CallContext, ResourceRef } from '../registry/handler.js';

export function logGroupArn(region: string, accountId: string, name: string): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:${name}`;
}

export function logStreamArn(region: string, accountId: string, group: string, stream: string): string {
  return `${logGroupArn(region, accountId, group)}:log-stream:${stream}`;
}

const GROUP_ARN = /^arn:aws:logs:([^:]*):(\d{12}):log-group:([^:]+)(?::\*)?$/;

/**
 * The log group an operation names, by logGroupName or logGroupIdentifier (its name or ARN):
 * exactly one of them. An ARN of another account or region names no group of the caller's.
 */
export function groupNameOf(input: { readonly logGroupName?: string; readonly logGroupIdentifier?: string }, context: CallContext): string {
  const { logGroupName: name, logGroupIdentifier: identifier } = input;
  if ((name === undefined) === (identifier === undefined)) {
    throw new ApiError('InvalidParameterException', 'Give either logGroupName or logGroupIdentifier, not both and not neither.');
  }
  if (identifier === undefined || !identifier.startsWith('arn:')) return name ?? identifier ?? '';
  const [, region, accountId, group = ''] = GROUP_ARN.exec(identifier) ?? [];
  if (!api.LOG_GROUP_NAME.test(group) || group.length > api.MAX_NAME_LENGTH) {
    throw new ApiError('InvalidParameterException', `logGroupIdentifier ${identifier} is not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME).`);
  }
  if (region !== context.services.config.region || accountId !== callerAccount(context.principal)) {
    throw new ApiError('ResourceNotFoundException', 'The specified log group does not exist.');
  }
  return group;
}

async function groupTags(context: CallContext, group: string): Promise<Record<string, string> | undefined> {
  const row = await context.services.db
    .selectFrom('log_groups')
    .select('tags')
    .where('account_id', '=', callerAccount(context.principal))
    .where('name', '=', group)
    .executeTakeFirst();
  return row === undefined ? undefined : (JSON.parse(row.tags) as Record<string, string>);
}

/**
 * The resource checked for a group or one of its streams (`stream` '' for the group), with the
 * group's tags when it exists; an unknown group is named all the same, without tags.
 */
export async function logResource(context: CallContext, group: string, stream = ''): Promise<ResourceRef> {
  const arn = logStreamArn(context.services.config.region, callerAccount(context.principal), group, stream);
  const tags = await groupTags(context, group);
  return tags === undefined ? { arn } : { arn, tags };
}

/** The resource of operations that name a group (or a stream in it) by logGroupName or logGroupIdentifier. */
export async function namedResource(
  input: { readonly logGroupName?: string; readonly logGroupIdentifier?: string; readonly logStreamName?: string },
  context: CallContext,
): Promise<readonly ResourceRef[]> {
  return [await logResource(context, groupNameOf(input, context), input.logStreamName ?? '')];
}

/** DescribeLogGroups acts on no group in particular: `…:log-group::log-stream:`. */
export function anyGroupResource(_input: unknown, context: CallContext): Promise<readonly ResourceRef[]> {
  return Promise.resolve([{ arn: logStreamArn(context.services.config.region, callerAccount(context.principal), '', '') }]);
}
