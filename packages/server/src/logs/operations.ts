/**
 * The log store's operations (service `logs`, CloudWatch Logs' names), bound to their handlers.
 * Log groups belong to the caller's account; each operation is authorized on the group's or the
 * stream's ARN as AWS forms it (arns.ts), with the group's tags.
 */
import { ApiError, logs as api, type InputOf } from '@airlock/protocol';
import { callerAccount } from '../identity/principal.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { LogGroupsTable, LogStreamsTable } from '../storage/schema.js';
import { anyGroupResource, groupNameOf, logGroupArn, logStreamArn, namedResource } from './arns.js';
import { decodeToken, encodeToken, invalidToken, prefixRange } from './paging.js';
import { readingHandlers as reading } from './reading.js';
import { createLogStream, ensureLogGroup, groupNotFound, requireLogGroup, requireLogStream, storeEvents, streamNotFound } from './store.js';

const DEFAULT_LIMIT = 50;

function account(context: CallContext): string {
  return callerAccount(context.principal);
}

/* ---------------------------------------------------------------- groups */

async function createLogGroup(input: InputOf<typeof api.CreateLogGroup>, context: CallContext) {
  const tags = input.tags ?? {};
  for (const key of Object.keys(tags)) {
    if (key.toLowerCase().startsWith('aws:')) throw new ApiError('InvalidParameterException', `Tag key ${key}: keys starting with aws: are reserved.`);
  }
  const { created } = await ensureLogGroup(context.services.db, { accountId: account(context), logGroupName: input.logGroupName, now: context.now, tags });
  if (!created) throw new ApiError('ResourceAlreadyExistsException', 'The specified log group already exists.');
  return {};
}

async function deleteLogGroup(input: InputOf<typeof api.DeleteLogGroup>, context: CallContext) {
  const result = await context.services.db.deleteFrom('log_groups').where('account_id', '=', account(context)).where('name', '=', input.logGroupName).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw groupNotFound();
  return {};
}

type GroupRow = LogGroupsTable & { stored_bytes: number };

function describeGroup(row: GroupRow, region: string) {
  const arn = logGroupArn(region, row.account_id, row.name);
  return {
    logGroupName: row.name,
    creationTime: row.created_at,
    ...(row.retention_days === null ? {} : { retentionInDays: row.retention_days }),
    metricFilterCount: 0,
    arn: `${arn}:*`,
    storedBytes: row.stored_bytes,
    logGroupClass: 'STANDARD' as const,
    logGroupArn: arn,
  };
}

async function describeLogGroups(input: InputOf<typeof api.DescribeLogGroups>, context: CallContext) {
  const limit = input.limit ?? DEFAULT_LIMIT;
  const after = decodeToken(input.nextToken);
  const prefix = input.logGroupNamePrefix === undefined ? undefined : prefixRange(input.logGroupNamePrefix);
  const rows = await context.services.db
    .selectFrom('log_groups')
    .selectAll('log_groups')
    .select((eb) =>
      eb
        .selectFrom('log_streams')
        .select((inner) => inner.cast<number>(inner.fn.coalesce(inner.fn.sum('log_streams.stored_bytes'), inner.lit(0)), 'bigint').as('total'))
        .whereRef('log_streams.group_id', '=', 'log_groups.group_id')
        .as('stored_bytes'),
    )
    .where('account_id', '=', account(context))
    .$if(prefix !== undefined, (qb) => qb.where('name', '>=', prefix?.from ?? ''))
    .$if(prefix?.below !== undefined, (qb) => qb.where('name', '<', prefix?.below ?? ''))
    .$if(after !== undefined, (qb) => qb.where('name', '>', after ?? ''))
    .orderBy('name')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    logGroups: page.map((row) => describeGroup({ ...row, stored_bytes: row.stored_bytes ?? 0 }, context.services.config.region)),
    ...(rows.length > limit && last !== undefined ? { nextToken: encodeToken(last.name) } : {}),
  };
}

async function setRetention(context: CallContext, name: string, days: number | null): Promise<Record<string, never>> {
  const result = await context.services.db.updateTable('log_groups').set({ retention_days: days }).where('account_id', '=', account(context)).where('name', '=', name).executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw groupNotFound();
  return {};
}

async function putRetentionPolicy(input: InputOf<typeof api.PutRetentionPolicy>, context: CallContext) {
  if (!(api.RETENTION_DAYS as readonly number[]).includes(input.retentionInDays)) {
    throw new ApiError('InvalidParameterException', `retentionInDays must be one of ${api.RETENTION_DAYS.join(', ')}, not ${input.retentionInDays}.`);
  }
  return setRetention(context, input.logGroupName, input.retentionInDays);
}

async function deleteRetentionPolicy(input: InputOf<typeof api.DeleteRetentionPolicy>, context: CallContext) {
  return setRetention(context, input.logGroupName, null);
}

/* ---------------------------------------------------------------- streams */

async function createStream(input: InputOf<typeof api.CreateLogStream>, context: CallContext) {
  const group = await requireLogGroup(context.services.db, account(context), input.logGroupName);
  const { created } = await createLogStream(context.services.db, group, input.logStreamName, context.now);
  if (!created) throw new ApiError('ResourceAlreadyExistsException', 'The specified log stream already exists.');
  return {};
}

async function deleteLogStream(input: InputOf<typeof api.DeleteLogStream>, context: CallContext) {
  const group = await requireLogGroup(context.services.db, account(context), input.logGroupName);
  const result = await context.services.db.deleteFrom('log_streams').where('group_id', '=', group.group_id).where('name', '=', input.logStreamName).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw streamNotFound();
  return {};
}

function describeStream(row: LogStreamsTable, region: string, accountId: string, group: string) {
  return {
    logStreamName: row.name,
    creationTime: row.created_at,
    ...(row.first_event_time === null ? {} : { firstEventTimestamp: row.first_event_time }),
    ...(row.last_event_time === 0 ? {} : { lastEventTimestamp: row.last_event_time }),
    ...(row.last_ingestion_time === null ? {} : { lastIngestionTime: row.last_ingestion_time }),
    arn: logStreamArn(region, accountId, group, row.name),
    storedBytes: row.stored_bytes,
  };
}

/** DescribeLogStreams' token: the last stream's name, or its last event time and name. */
function streamKey(token: string | undefined, byTime: boolean): { time: number; name: string } | undefined {
  const key = decodeToken(token);
  if (key === undefined) return undefined;
  if (!byTime) return { time: 0, name: key };
  try {
    const [time, name] = JSON.parse(key) as unknown[];
    if (typeof time === 'number' && typeof name === 'string') return { time, name };
  } catch {
    // refused below
  }
  throw invalidToken();
}

async function describeLogStreams(input: InputOf<typeof api.DescribeLogStreams>, context: CallContext) {
  const byTime = input.orderBy === 'LastEventTime';
  if (byTime && input.logStreamNamePrefix !== undefined) {
    throw new ApiError('InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.');
  }
  const group = await requireLogGroup(context.services.db, account(context), groupNameOf(input, context));
  const limit = input.limit ?? DEFAULT_LIMIT;
  const order = input.descending === true ? 'desc' : 'asc';
  const after = streamKey(input.nextToken, byTime);
  const prefix = input.logStreamNamePrefix === undefined ? undefined : prefixRange(input.logStreamNamePrefix);
  const rows = await context.services.db
    .selectFrom('log_streams')
    .selectAll()
    .where('group_id', '=', group.group_id)
    .$if(prefix !== undefined, (qb) => qb.where('name', '>=', prefix?.from ?? ''))
    .$if(prefix?.below !== undefined, (qb) => qb.where('name', '<', prefix?.below ?? ''))
    .$if(after !== undefined && !byTime, (qb) => qb.where('name', order === 'asc' ? '>' : '<', after?.name ?? ''))
    .$if(after !== undefined && byTime, (qb) =>
      qb.where((eb) => eb(eb.refTuple('last_event_time', 'name'), order === 'asc' ? '>' : '<', eb.tuple(after?.time ?? 0, after?.name ?? ''))),
    )
    .$if(byTime, (qb) => qb.orderBy('last_event_time', order))
    .orderBy('name', order)
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const region = context.services.config.region;
  return {
    logStreams: page.map((row) => describeStream(row, region, group.account_id, group.name)),
    ...(rows.length > limit && last !== undefined ? { nextToken: encodeToken(byTime ? JSON.stringify([last.last_event_time, last.name]) : last.name) } : {}),
  };
}

/* ---------------------------------------------------------------- events */

async function putLogEvents(input: InputOf<typeof api.PutLogEvents>, context: CallContext) {
  const group = await requireLogGroup(context.services.db, account(context), input.logGroupName);
  const stream = await requireLogStream(context.services.db, group, input.logStreamName);
  const { nextSequenceToken, rejectedLogEventsInfo } = await storeEvents(context.services.db, group, stream.stream_id, input.logEvents, context.now);
  return { nextSequenceToken, ...(rejectedLogEventsInfo === undefined ? {} : { rejectedLogEventsInfo }) };
}

export const LOGS_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateLogGroup, createLogGroup, { resources: namedResource }),
  bind(api.DeleteLogGroup, deleteLogGroup, { resources: namedResource }),
  bind(api.DescribeLogGroups, describeLogGroups, { resources: anyGroupResource }),
  bind(api.PutRetentionPolicy, putRetentionPolicy, { resources: namedResource }),
  bind(api.DeleteRetentionPolicy, deleteRetentionPolicy, { resources: namedResource }),
  bind(api.CreateLogStream, createStream, { resources: namedResource }),
  bind(api.DeleteLogStream, deleteLogStream, { resources: namedResource }),
  bind(api.DescribeLogStreams, describeLogStreams, { resources: namedResource }),
  bind(api.PutLogEvents, putLogEvents, { resources: namedResource }),
  bind(api.GetLogEvents, reading.getLogEvents, { resources: namedResource }),
  bind(api.FilterLogEvents, reading.filterLogEvents, { resources: namedResource }),
];
