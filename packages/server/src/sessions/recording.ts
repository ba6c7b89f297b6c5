/**
 * Where a session's record goes when it ends, as the account's preferences said when it started:
 * the log store (a stream named by the session id in cloudWatchLogGroupName) and the object
 * store (`{s3KeyPrefix}/{sessionId}.log` and `.cast` in s3BucketName, through the outbox, which
 * retries until the store has them). The record itself stays in the data directory either way.
 */
import { ApiError } from '@airlock/protocol';
import { appendEvents, ensureLogGroup } from '../logs/store.js';
import type { ObjectService } from '../objects/service.js';
import type { Db } from '../storage/db.js';
import type { Preferences } from './documents.js';
import { readRecord, recordPath } from './record.js';
import { asciicast, logEvents, transcript, type LogEvent, type SessionFacts } from './transcripts.js';

/** Kept with the session at its start. */
export interface RecordingPlan {
  readonly logGroupName?: string;
  readonly bucket?: string;
  readonly keyPrefix: string;
  readonly encrypted: boolean;
}

/** PutLogEvents' limits: 10,000 events and about 1 MB a batch. */
const BATCH_EVENTS = 10_000;
const BATCH_BYTES = 1_000_000;

/** The plan from the preferences; an s3EncryptionEnabled session whose bucket does not encrypt is refused, as AWS does. */
export async function recordingPlan(preferences: Preferences, objects: ObjectService): Promise<RecordingPlan> {
  const plan: RecordingPlan = {
    ...(preferences.cloudWatchLogGroupName === '' ? {} : { logGroupName: preferences.cloudWatchLogGroupName }),
    ...(preferences.s3BucketName === '' ? {} : { bucket: preferences.s3BucketName }),
    keyPrefix: preferences.s3KeyPrefix.replace(/^\/+|\/+$/g, ''),
    encrypted: preferences.s3EncryptionEnabled,
  };
  if (plan.bucket !== undefined && plan.encrypted && !(await objects.bucketEncrypted(plan.bucket))) {
    throw new ApiError('ValidationException', `The session preferences ask for an encrypted bucket (s3EncryptionEnabled), and bucket ${plan.bucket} does not encrypt by default: turn on its default encryption, or the preference off.`);
  }
  return plan;
}

function batches(events: readonly LogEvent[]): LogEvent[][] {
  const out: LogEvent[][] = [];
  let current: LogEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = Buffer.byteLength(event.message) + 26;
    if (current.length > 0 && (current.length >= BATCH_EVENTS || bytes + size > BATCH_BYTES)) {
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

export interface DeliveryDeps {
  readonly db: Db;
  readonly objects: ObjectService;
  readonly dataDir: string;
  readonly now: () => number;
}

/** Sends an ended session's record to its log group and bucket. */
export async function deliverRecording(deps: DeliveryDeps, sessionId: string): Promise<void> {
  const row = await deps.db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
  if (row?.recording == null) return;
  const plan = JSON.parse(row.recording) as RecordingPlan;
  if (plan.logGroupName === undefined && plan.bucket === undefined) return;
  const { entries } = await readRecord(recordPath(deps.dataDir, sessionId));
  const work = JSON.parse(row.work) as { kind: string; host?: string; port?: number };
  const facts: SessionFacts = {
    sessionId,
    target: row.target,
    owner: row.owner_arn,
    startedAt: row.started_at,
    destination: work.kind === 'port' ? `${work.host ?? ''}:${work.port ?? ''}` : undefined,
  };
  if (plan.logGroupName !== undefined) {
    await ensureLogGroup(deps.db, { accountId: row.account_id, logGroupName: plan.logGroupName, now: deps.now() });
    for (const batch of batches(logEvents(facts, entries))) {
      await appendEvents(deps.db, { accountId: row.account_id, logGroupName: plan.logGroupName, logStreamName: sessionId, events: batch, now: deps.now() });
    }
  }
  if (plan.bucket !== undefined) {
    const key = (name: string): string => (plan.keyPrefix === '' ? name : `${plan.keyPrefix}/${name}`);
    await deps.objects.enqueue({ bucket: plan.bucket, key: key(`${sessionId}.log`), body: Buffer.from(transcript(entries)), contentType: 'text/plain; charset=utf-8' });
    await deps.objects.enqueue({ bucket: plan.bucket, key: key(`${sessionId}.cast`), body: Buffer.from(asciicast(facts, entries)), contentType: 'application/x-asciicast' });
  }
}
