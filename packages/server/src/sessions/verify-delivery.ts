/**
 * Checks the copies of a session's record that were delivered (recording.ts) against the record
 * itself: the log events in its stream and the objects in its bucket are made again from the
 * record and compared. An event edited, deleted or added in the stream, or an object edited,
 * deleted or never uploaded, is named with where: the event's place in the stream (from its
 * head, as GetLogEvents with startFromHead reads it) or the object's line.
 *
 * The record is what these are checked against, so run this after verify-record.ts says the
 * record holds (its chain and seal).
 */
import type { LogEvent } from '../logs/store.js';
import type { ObjectStore } from '../objects/store.js';
import type { Db } from '../storage/db.js';
import type { RecordEntry } from './record.js';
import { factsOf, planOf, recordingObjects } from './recording.js';
import { logEvents } from './transcripts.js';

const DAY_MS = 86_400_000;
/** How far ahead an edit is looked for when deciding between an added, a deleted and an edited event. */
const LOOKAHEAD = 10_000;

export type DeliveryProblem =
  | { readonly kind: 'stream-missing'; readonly logGroupName: string; readonly expected: number }
  | { readonly kind: 'event-edited'; readonly logGroupName: string; readonly position: number; readonly recordEvent: number; readonly found: LogEvent; readonly expected: LogEvent }
  | { readonly kind: 'event-missing'; readonly logGroupName: string; readonly after: number; readonly recordEvent: number; readonly expected: LogEvent }
  | { readonly kind: 'event-added'; readonly logGroupName: string; readonly position: number; readonly found: LogEvent }
  | { readonly kind: 'object-missing'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'object-pending'; readonly bucket: string; readonly key: string; readonly attempts: number; readonly lastError: string | null }
  | { readonly kind: 'object-unreadable'; readonly bucket: string; readonly key: string; readonly error: string }
  | { readonly kind: 'object-edited'; readonly bucket: string; readonly key: string; readonly line: number; readonly foundLines: number; readonly expectedLines: number };

export interface DeliveryVerification {
  /** Log events compared (those past the log group's retention are not). */
  readonly events: number;
  /** Objects compared (bucket/key). */
  readonly objects: readonly string[];
  /** Events of the record older than the log group's retention: removed by it, so not checked. */
  readonly expired: number;
  readonly problems: readonly DeliveryProblem[];
}

export interface DeliveryCheckDeps {
  readonly db: Db;
  readonly store: Pick<ObjectStore, 'get'>;
  readonly now: number;
}

/** Compares what the session's preferences delivered with what its record makes. */
export async function verifyDeliveredCopies(deps: DeliveryCheckDeps, sessionId: string, entries: readonly RecordEntry[]): Promise<DeliveryVerification> {
  const row = await deps.db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
  const plan = row === undefined ? undefined : planOf(row);
  if (row === undefined || plan === undefined) return { events: 0, objects: [], expired: 0, problems: [] };
  const facts = factsOf(row);
  const problems: DeliveryProblem[] = [];
  let events = 0;
  let expired = 0;
  if (plan.logGroupName !== undefined) {
    const checked = await checkLogStream(deps, row.account_id, plan.logGroupName, sessionId, logEvents(facts, entries));
    problems.push(...checked.problems);
    events = checked.compared;
    expired = checked.expired;
  }
  const objects: string[] = [];
  for (const object of recordingObjects(plan, facts, entries)) {
    objects.push(`${object.bucket}/${object.key}`);
    const problem = await checkObject(deps, object.bucket, object.key, object.body);
    if (problem !== undefined) problems.push(problem);
  }
  return { events, objects, expired, problems };
}

async function checkLogStream(
  deps: DeliveryCheckDeps,
  accountId: string,
  logGroupName: string,
  sessionId: string,
  all: readonly LogEvent[],
): Promise<{ compared: number; expired: number; problems: DeliveryProblem[] }> {
  const group = await deps.db.selectFrom('log_groups').select(['group_id', 'retention_days']).where('account_id', '=', accountId).where('name', '=', logGroupName).executeTakeFirst();
  const stream =
    group === undefined ? undefined : await deps.db.selectFrom('log_streams').select('stream_id').where('group_id', '=', group.group_id).where('name', '=', sessionId).executeTakeFirst();
  // Retention removes old events on its own schedule: those past it are neither expected nor counted.
  const cutoff = group?.retention_days == null ? -Infinity : deps.now - group.retention_days * DAY_MS;
  const expected = all.filter((event) => event.timestamp >= cutoff);
  const expired = all.length - expected.length;
  if (stream === undefined) {
    return { compared: 0, expired, problems: expected.length === 0 ? [] : [{ kind: 'stream-missing', logGroupName, expected: expected.length }] };
  }
  const rows = await deps.db.selectFrom('log_events').select(['event_time', 'message']).where('stream_id', '=', stream.stream_id).where('event_time', '>=', Number.isFinite(cutoff) ? cutoff : 0).orderBy('seq').execute();
  const found = rows.map((event) => ({ timestamp: event.event_time, message: event.message }));
  // Positions count from the first event inside the retention.
  return { compared: expected.length, expired, problems: compareEvents(logGroupName, expected, found) };
}

const same = (a: LogEvent, b: LogEvent): boolean => a.timestamp === b.timestamp && a.message === b.message;

function indexFrom(list: readonly LogEvent[], event: LogEvent, from: number): number {
  const end = Math.min(list.length, from + LOOKAHEAD);
  for (let index = from; index < end; index++) {
    const candidate = list[index];
    if (candidate !== undefined && same(candidate, event)) return index;
  }
  return -1;
}

/**
 * Walks both lists together: where they part, whichever side meets the other again sooner says
 * what happened (events missing from the stream, or added to it); neither: the event was edited.
 * Positions are 1-based, as a person counts events from the stream's head.
 */
export function compareEvents(logGroupName: string, expected: readonly LogEvent[], found: readonly LogEvent[]): DeliveryProblem[] {
  const problems: DeliveryProblem[] = [];
  let i = 0;
  let j = 0;
  while (i < expected.length || j < found.length) {
    const want = expected[i];
    const have = found[j];
    if (want !== undefined && have !== undefined && same(want, have)) {
      i += 1;
      j += 1;
      continue;
    }
    if (want === undefined && have !== undefined) {
      problems.push({ kind: 'event-added', logGroupName, position: j + 1, found: have });
      j += 1;
      continue;
    }
    if (have === undefined && want !== undefined) {
      problems.push({ kind: 'event-missing', logGroupName, after: j, recordEvent: i + 1, expected: want });
      i += 1;
      continue;
    }
    if (want === undefined || have === undefined) break;
    const haveLater = indexFrom(expected, have, i + 1);
    const wantLater = indexFrom(found, want, j + 1);
    if (haveLater !== -1 && (wantLater === -1 || haveLater - i <= wantLater - j)) {
      for (; i < haveLater; i++) {
        const missing = expected[i];
        if (missing !== undefined) problems.push({ kind: 'event-missing', logGroupName, after: j, recordEvent: i + 1, expected: missing });
      }
    } else if (wantLater !== -1) {
      for (; j < wantLater; j++) {
        const added = found[j];
        if (added !== undefined) problems.push({ kind: 'event-added', logGroupName, position: j + 1, found: added });
      }
    } else {
      problems.push({ kind: 'event-edited', logGroupName, position: j + 1, recordEvent: i + 1, found: have, expected: want });
      i += 1;
      j += 1;
    }
  }
  return problems;
}

async function checkObject(deps: DeliveryCheckDeps, bucket: string, key: string, expected: Buffer): Promise<DeliveryProblem | undefined> {
  let object: { readonly body: Buffer } | undefined;
  try {
    object = await deps.store.get(bucket, key);
  } catch (error) {
    return { kind: 'object-unreadable', bucket, key, error: error instanceof Error ? error.message : String(error) };
  }
  if (object === undefined) {
    const waiting = await deps.db.selectFrom('object_outbox').select(['attempts', 'last_error']).where('bucket', '=', bucket).where('object_key', '=', key).where('done_at', 'is', null).executeTakeFirst();
    return waiting === undefined ? { kind: 'object-missing', bucket, key } : { kind: 'object-pending', bucket, key, attempts: waiting.attempts, lastError: waiting.last_error };
  }
  if (object.body.equals(expected)) return undefined;
  const foundLines = object.body.toString('utf8').split('\n');
  const expectedLines = expected.toString('utf8').split('\n');
  let line = 0;
  while (line < foundLines.length && line < expectedLines.length && foundLines[line] === expectedLines[line]) line += 1;
  return { kind: 'object-edited', bucket, key, line: line + 1, foundLines: foundLines.length, expectedLines: expectedLines.length };
}

/** What an event says, without the session, target and owner every event of the stream repeats. */
function gist(message: string): string {
  let said = message;
  try {
    const parsed = JSON.parse(message) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      const { sessionId: _session, target: _target, owner: _owner, ...rest } = parsed as Record<string, unknown>;
      said = JSON.stringify(rest);
    }
  } catch {
    // not JSON: an event the recording did not write; shown as it is
  }
  return said.length > 100 ? `${said.slice(0, 97)}...` : said;
}
const at = (event: LogEvent): string => new Date(event.timestamp).toISOString();

export function describeDeliveryProblem(problem: DeliveryProblem): string {
  switch (problem.kind) {
    case 'stream-missing':
      return `log group ${problem.logGroupName} has no stream for it, where the record makes ${problem.expected} events: deleted, or not delivered yet`;
    case 'event-edited':
      return `log group ${problem.logGroupName}: event ${problem.position} of the stream is not the record's event ${problem.recordEvent}: it reads ${gist(problem.found.message)} at ${at(problem.found)} where the record has ${gist(problem.expected.message)} at ${at(problem.expected)}`;
    case 'event-missing':
      return `log group ${problem.logGroupName}: the record's event ${problem.recordEvent} (${at(problem.expected)}, ${gist(problem.expected.message)}) is missing from the stream, ${problem.after === 0 ? 'at its head' : `after its event ${problem.after}`}`;
    case 'event-added':
      return `log group ${problem.logGroupName}: event ${problem.position} of the stream (${at(problem.found)}, ${gist(problem.found.message)}) is not in the record: it was added`;
    case 'object-missing':
      return `object s3://${problem.bucket}/${problem.key} is not in the bucket, and it was uploaded: it was deleted`;
    case 'object-pending':
      return `object s3://${problem.bucket}/${problem.key} is not uploaded yet (the outbox has tried ${problem.attempts} times${problem.lastError === null ? '' : `; last error: ${problem.lastError}`})`;
    case 'object-unreadable':
      return `object s3://${problem.bucket}/${problem.key} could not be read: ${problem.error}`;
    case 'object-edited':
      return `object s3://${problem.bucket}/${problem.key} differs from the record from line ${problem.line} (it has ${problem.foundLines} lines; the record makes ${problem.expectedLines})`;
  }
}
