/**
 * The log store's writes, and the server's own way in: the broker records sessions through
 * `ensureLogGroup` and `appendEvents`, not over HTTP. The API's handlers use the same functions,
 * so a batch is checked and stored one way whoever sends it.
 *
 *     await ensureLogGroup(db, { accountId, logGroupName: 'SessionManagerLogGroup', now });
 *     await appendEvents(db, { accountId, logGroupName: 'SessionManagerLogGroup', logStreamName: sessionId, events, now });
 *
 * A batch follows PutLogEvents' rules (at most 10,000 events and 1,048,576 bytes, chronological,
 * spanning at most 24 hours); events more than 14 days old, older than the group's retention or
 * more than 2 hours ahead of `now` are not stored and are named in rejectedLogEventsInfo.
 * Each stream numbers its events (seq) in the order they are stored.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { ApiError, logs as api } from '@airlock/protocol';
import type { Db } from '../storage/db.js';
import type { LogGroupsTable, LogStreamsTable } from '../storage/schema.js';
import { eventDigits } from './positions.js';

/** AWS's quota of log groups in an account (and region). */
export const MAX_LOG_GROUPS = 1_000_000;
const DAY_MS = 86_400_000;
/** Rows per INSERT: far below either database's limit on parameters. */
const INSERT_CHUNK = 500;

export interface LogEvent {
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly message: string;
}

export interface RejectedLogEventsInfo {
  tooNewLogEventStartIndex?: number;
  tooOldLogEventEndIndex?: number;
  expiredLogEventEndIndex?: number;
}

export interface AppendResult {
  /** How many of the events were stored. */
  readonly stored: number;
  /** PutLogEvents' answer: which events were not stored, by index (absent when all were). */
  readonly rejectedLogEventsInfo?: RejectedLogEventsInfo;
  /** Deprecated at AWS and never needed; PutLogEvents still answers with one. */
  readonly nextSequenceToken: string;
}

export const groupNotFound = (): ApiError => new ApiError('ResourceNotFoundException', 'The specified log group does not exist.');
export const streamNotFound = (): ApiError => new ApiError('ResourceNotFoundException', 'The specified log stream does not exist.');

function checkName(kind: 'logGroupName' | 'logStreamName', name: string): void {
  const pattern = kind === 'logGroupName' ? api.LOG_GROUP_NAME : api.LOG_STREAM_NAME;
  if (name.length < 1 || name.length > api.MAX_NAME_LENGTH || !pattern.test(name)) {
    throw new ApiError('InvalidParameterException', `${kind} ${JSON.stringify(name)} must be 1 to ${api.MAX_NAME_LENGTH} characters matching ${pattern.source}.`);
  }
}

export async function findLogGroup(db: Db, accountId: string, name: string): Promise<LogGroupsTable | undefined> {
  return db.selectFrom('log_groups').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
}

export async function requireLogGroup(db: Db, accountId: string, name: string): Promise<LogGroupsTable> {
  const group = await findLogGroup(db, accountId, name);
  if (group === undefined) throw groupNotFound();
  return group;
}

export async function requireLogStream(db: Db, group: Pick<LogGroupsTable, 'group_id'>, name: string): Promise<LogStreamsTable> {
  const stream = await db.selectFrom('log_streams').selectAll().where('group_id', '=', group.group_id).where('name', '=', name).executeTakeFirst();
  if (stream === undefined) throw streamNotFound();
  return stream;
}

export interface EnsureLogGroup {
  readonly accountId: string;
  readonly logGroupName: string;
  /** Epoch milliseconds: its creation time if it is made now. */
  readonly now: number;
  /** Set only if it is made now. */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The account's log group of that name, made (without retention) if there is none. `created`
 * says which. Refuses a name AWS would refuse, and a new group past the account's quota.
 */
export async function ensureLogGroup(db: Db, request: EnsureLogGroup): Promise<{ group: LogGroupsTable; created: boolean }> {
  checkName('logGroupName', request.logGroupName);
  const existing = await findLogGroup(db, request.accountId, request.logGroupName);
  if (existing !== undefined) return { group: existing, created: false };
  const { count } = await db
    .selectFrom('log_groups')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('account_id', '=', request.accountId)
    .executeTakeFirstOrThrow();
  if (count >= MAX_LOG_GROUPS) throw new ApiError('LimitExceededException', `The account has ${MAX_LOG_GROUPS} log groups, its most: delete some first.`);
  const row: LogGroupsTable = {
    group_id: randomBytes(8).toString('hex'),
    account_id: request.accountId,
    name: request.logGroupName,
    created_at: request.now,
    retention_days: null,
    tags: JSON.stringify(request.tags ?? {}),
  };
  const result = await db.insertInto('log_groups').values(row).onConflict((oc) => oc.columns(['account_id', 'name']).doNothing()).executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return { group: row, created: true };
  // Made by someone else at the same moment.
  return { group: await requireLogGroup(db, request.accountId, request.logGroupName), created: false };
}

/** 20 random decimal digits: a stream's part of event ids and tokens. */
function newStreamId(): string {
  let digits = '';
  for (let i = 0; i < 20; i++) digits += String(randomInt(10));
  return digits;
}

/** Makes the stream; `created` false when the group already had one of that name. */
export async function createLogStream(db: Db, group: Pick<LogGroupsTable, 'group_id'>, name: string, now: number): Promise<{ stream: LogStreamsTable; created: boolean }> {
  checkName('logStreamName', name);
  const row: LogStreamsTable = {
    stream_id: newStreamId(),
    group_id: group.group_id,
    name,
    created_at: now,
    first_event_time: null,
    last_event_time: 0,
    last_ingestion_time: null,
    stored_bytes: 0,
    last_seq: 0,
  };
  const result = await db.insertInto('log_streams').values(row).onConflict((oc) => oc.columns(['group_id', 'name']).doNothing()).executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) return { stream: row, created: true };
  return { stream: await requireLogStream(db, group, name), created: false };
}

interface Plan {
  /** The events to store: [from, to). */
  readonly from: number;
  readonly to: number;
  readonly rejected: RejectedLogEventsInfo | undefined;
}

/** Checks a batch against PutLogEvents' rules and says which events are stored. */
export function planBatch(events: readonly LogEvent[], now: number, retentionDays: number | null): Plan {
  if (events.length === 0 || events.length > api.MAX_BATCH_EVENTS) {
    throw new ApiError('InvalidParameterException', `A batch holds 1 to ${api.MAX_BATCH_EVENTS} log events, not ${events.length}.`);
  }
  let bytes = 0;
  let previous = 0;
  events.forEach((event, index) => {
    if (!Number.isSafeInteger(event.timestamp) || event.timestamp < 0) throw new ApiError('InvalidParameterException', `logEvents[${index}].timestamp must be epoch milliseconds.`);
    if (event.message.length === 0) throw new ApiError('InvalidParameterException', `logEvents[${index}].message is empty.`);
    if (event.timestamp < previous) throw new ApiError('InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
    previous = event.timestamp;
    bytes += Buffer.byteLength(event.message, 'utf8') + api.EVENT_OVERHEAD_BYTES;
  });
  if (bytes > api.MAX_BATCH_BYTES) {
    throw new ApiError('InvalidParameterException', `Upload too large: ${bytes} bytes exceeds limit of ${api.MAX_BATCH_BYTES} (messages in UTF-8 plus ${api.EVENT_OVERHEAD_BYTES} bytes per event).`);
  }
  const countBefore = (time: number): number => {
    const index = events.findIndex((event) => event.timestamp >= time);
    return index === -1 ? events.length : index;
  };
  const tooOld = countBefore(now - api.MAX_EVENT_AGE_MS);
  const expired = retentionDays === null ? 0 : countBefore(now - retentionDays * DAY_MS);
  const tooNew = countBefore(now + api.MAX_EVENT_AHEAD_MS + 1);
  const from = Math.min(Math.max(tooOld, expired), tooNew);
  const first = events[from];
  const last = events[tooNew - 1];
  if (first !== undefined && last !== undefined && tooNew > from && last.timestamp - first.timestamp > api.MAX_BATCH_SPAN_MS) {
    throw new ApiError('InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
  }
  const rejected: RejectedLogEventsInfo = {
    ...(tooNew < events.length ? { tooNewLogEventStartIndex: tooNew } : {}),
    ...(tooOld > 0 ? { tooOldLogEventEndIndex: tooOld } : {}),
    ...(expired > 0 ? { expiredLogEventEndIndex: expired } : {}),
  };
  return { from, to: tooNew, rejected: Object.keys(rejected).length === 0 ? undefined : rejected };
}

/**
 * Stores a batch in a stream of the group (PutLogEvents' work): checks it, numbers the events
 * after the stream's last and writes them with the stream's times and size, in one transaction.
 */
export async function storeEvents(db: Db, group: Pick<LogGroupsTable, 'group_id' | 'retention_days'>, streamId: string, events: readonly LogEvent[], now: number): Promise<AppendResult> {
  const { from, to, rejected } = planBatch(events, now, group.retention_days);
  const accepted = events.slice(from, to);
  const sizes = accepted.map((event) => Buffer.byteLength(event.message, 'utf8'));
  const first = accepted[0];
  const last = accepted[accepted.length - 1];
  const lastSeq = first === undefined || last === undefined ? await lastSeqOf(db, streamId) : await db.transaction().execute(async (trx) => {
    // Taking the numbers locks the stream's row on PostgreSQL: batches to one stream are numbered and written one after another.
    const updated = await trx
      .updateTable('log_streams')
      .set((eb) => ({
        last_seq: eb('last_seq', '+', accepted.length),
        stored_bytes: eb('stored_bytes', '+', sizes.reduce((sum, size) => sum + size, 0)),
        last_ingestion_time: now,
        first_event_time: eb.case().when('first_event_time', 'is', null).then(first.timestamp).when('first_event_time', '>', first.timestamp).then(first.timestamp).else(eb.ref('first_event_time')).end(),
        last_event_time: eb.case().when('last_event_time', '<', last.timestamp).then(last.timestamp).else(eb.ref('last_event_time')).end(),
      }))
      .where('stream_id', '=', streamId)
      .returning('last_seq')
      .executeTakeFirst();
    if (updated === undefined) throw streamNotFound();
    const firstSeq = updated.last_seq - accepted.length + 1;
    for (let start = 0; start < accepted.length; start += INSERT_CHUNK) {
      const rows = accepted.slice(start, start + INSERT_CHUNK).map((event, offset) => ({
        stream_id: streamId,
        event_time: event.timestamp,
        seq: firstSeq + start + offset,
        group_id: group.group_id,
        ingested_at: now,
        message: event.message,
        size: sizes[start + offset] ?? 0,
      }));
      await trx.insertInto('log_events').values(rows).execute();
    }
    return updated.last_seq;
  });
  return {
    stored: accepted.length,
    ...(rejected === undefined ? {} : { rejectedLogEventsInfo: rejected }),
    nextSequenceToken: eventDigits({ time: 0, seq: lastSeq, streamId }),
  };
}

async function lastSeqOf(db: Db, streamId: string): Promise<number> {
  const row = await db.selectFrom('log_streams').select('last_seq').where('stream_id', '=', streamId).executeTakeFirst();
  if (row === undefined) throw streamNotFound();
  return row.last_seq;
}

export interface AppendEvents {
  readonly accountId: string;
  readonly logGroupName: string;
  /** Made in the group if it has none of that name. */
  readonly logStreamName: string;
  /** In chronological order, as PutLogEvents takes them. */
  readonly events: readonly LogEvent[];
  /** Epoch milliseconds (the services' clock): the ingestion time, and what too old and too new are measured from. */
  readonly now: number;
}

/**
 * Adds events to a stream of an existing log group (ResourceNotFoundException without one: call
 * ensureLogGroup first), making the stream if needed. Throws InvalidParameterException for a
 * batch PutLogEvents would refuse; answers which events were not stored, as PutLogEvents does.
 */
export async function appendEvents(db: Db, request: AppendEvents): Promise<AppendResult> {
  const group = await requireLogGroup(db, request.accountId, request.logGroupName);
  const { stream } = await createLogStream(db, group, request.logStreamName, request.now);
  return storeEvents(db, group, stream.stream_id, request.events, request.now);
}

/** Splits chronological events into batches PutLogEvents takes: its count, bytes and 24-hour span. */
export function logEventBatches(events: readonly LogEvent[]): LogEvent[][] {
  const out: LogEvent[][] = [];
  let current: LogEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(event.message, 'utf8') + api.EVENT_OVERHEAD_BYTES;
    const first = current[0];
    if (first !== undefined && (current.length >= api.MAX_BATCH_EVENTS || bytes + size > api.MAX_BATCH_BYTES || event.timestamp - first.timestamp > api.MAX_BATCH_SPAN_MS)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
