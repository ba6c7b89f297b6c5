/**
 * Where a session's record goes when it ends, as the account's preferences said when it started:
 * the log store (a stream named by the session id in cloudWatchLogGroupName) and the object
 * store (`{s3KeyPrefix}/{sessionId}.log` and `.cast` in s3BucketName, through the outbox, which
 * retries until the store has them). The record itself stays in the data directory either way.
 */
import { ApiError } from '@airlock/protocol';
import { appendEvents, ensureLogGroup, findLogGroup, logEventBatches } from '../logs/store.js';
import type { ObjectService } from '../objects/service.js';
import type { PutObject } from '../objects/store.js';
import type { Db } from '../storage/db.js';
import type { SessionsTable } from '../storage/schema.js';
import type { Preferences } from './documents.js';
import { readRecord, recordPath, type RecordEntry } from './record.js';
import { segmentedRecord } from './record-segments.js';
import { asciicast, logEvents, terminalEvents, transcript, type SessionFacts } from './transcripts.js';

/** Kept with the session at its start. */
export interface RecordingPlan {
  readonly logGroupName?: string;
  readonly bucket?: string;
  readonly keyPrefix: string;
  readonly encrypted: boolean;
  /** cloudWatchStreamingEnabled: terminal events go to the log group while the session runs. */
  readonly streaming?: boolean;
}


/** The plan from the preferences; an s3EncryptionEnabled session whose bucket does not encrypt is refused, as AWS does. */
export async function recordingPlan(preferences: Preferences, objects: ObjectService): Promise<RecordingPlan> {
  const plan: RecordingPlan = {
    ...(preferences.cloudWatchLogGroupName === '' ? {} : { logGroupName: preferences.cloudWatchLogGroupName }),
    ...(preferences.s3BucketName === '' ? {} : { bucket: preferences.s3BucketName }),
    keyPrefix: preferences.s3KeyPrefix.replace(/^\/+|\/+$/g, ''),
    encrypted: preferences.s3EncryptionEnabled,
    streaming: preferences.cloudWatchStreamingEnabled,
  };
  if (plan.bucket !== undefined && plan.encrypted && !(await objects.bucketEncrypted(plan.bucket))) {
    throw new ApiError('ValidationException', `The session preferences ask for an encrypted bucket (s3EncryptionEnabled), and bucket ${plan.bucket} does not encrypt by default: turn on its default encryption, or the preference off.`);
  }
  return plan;
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
  if (row === undefined) return;
  const plan = planOf(row);
  const nowhere = plan === undefined || (plan.logGroupName === undefined && plan.bucket === undefined);
  // A moved session is claimed even when it goes nowhere: it is done with (no start looks at it again).
  if (nowhere && row.carriers === null) return;
  const entries = await deliverableEntries(deps, row);
  if (entries === undefined || plan === undefined || nowhere) return;
  try {
    await deliver(deps, row, plan, entries);
  } catch (error) {
    // Another try: the next node to start, or the next hand-over, delivers it (log events sent already may come twice).
    if (row.carriers !== null) await deps.db.updateTable('sessions').set({ segments_delivered_at: null }).where('session_id', '=', sessionId).execute();
    throw error;
  }
}

async function deliver(deps: DeliveryDeps, row: SessionsTable, plan: RecordingPlan, entries: readonly RecordEntry[]): Promise<void> {
  const sessionId = row.session_id;
  const facts = factsOf(row);
  if (plan.logGroupName !== undefined) {
    await ensureLogGroup(deps.db, { accountId: row.account_id, logGroupName: plan.logGroupName, now: deps.now() });
    // Streamed sessions sent their terminal events as they came; what is left is each connection's summary.
    const events = logEvents(facts, plan.streaming === true ? entries.filter((entry) => entry.stream !== 0) : entries);
    for (const batch of logEventBatches(events)) {
      await appendEvents(deps.db, { accountId: row.account_id, logGroupName: plan.logGroupName, logStreamName: sessionId, events: batch, now: deps.now() });
    }
  }
  for (const object of recordingObjects(plan, facts, entries)) await deps.objects.enqueue(object);
}

/**
 * The entries to deliver: the record here; for a session that moved between nodes, its segments
 * merged, once it has ended and every carrier has handed its segment over, by the one node that
 * claims the delivery (undefined for the others, and until then).
 */
async function deliverableEntries(deps: DeliveryDeps, row: SessionsTable): Promise<readonly RecordEntry[] | undefined> {
  if (row.carriers === null) return (await readRecord(recordPath(deps.dataDir, row.session_id))).entries;
  if (row.status !== 'Terminated' && row.status !== 'Failed') return undefined;
  const record = await segmentedRecord(deps.db, row);
  if (record.missing.length > 0) return undefined;
  const claimed = await deps.db.updateTable('sessions').set({ segments_delivered_at: deps.now() }).where('session_id', '=', row.session_id).where('segments_delivered_at', 'is', null).executeTakeFirst();
  return claimed.numUpdatedRows > 0n ? record.entries : undefined;
}

/** The plan a session was started with; undefined: it records nowhere but its record. */
export function planOf(row: Pick<SessionsTable, 'recording'>): RecordingPlan | undefined {
  return row.recording == null ? undefined : (JSON.parse(row.recording) as RecordingPlan);
}

/** The objects the bucket receives: `{prefix}/{id}.log` and `{prefix}/{id}.cast`; none without a bucket. */
export function recordingObjects(plan: RecordingPlan, facts: SessionFacts, entries: readonly RecordEntry[]): (PutObject & { readonly body: Buffer })[] {
  const bucket = plan.bucket;
  if (bucket === undefined) return [];
  const key = (name: string): string => (plan.keyPrefix === '' ? name : `${plan.keyPrefix}/${name}`);
  return [
    { bucket, key: key(`${facts.sessionId}.log`), body: Buffer.from(transcript(entries)), contentType: 'text/plain; charset=utf-8' },
    { bucket, key: key(`${facts.sessionId}.cast`), body: Buffer.from(asciicast(facts, entries)), contentType: 'application/x-asciicast' },
  ];
}

export function factsOf(row: SessionsTable): SessionFacts {
  const work = JSON.parse(row.work) as { kind: string; host?: string; port?: number };
  return {
    sessionId: row.session_id,
    target: row.target,
    owner: row.owner_arn,
    startedAt: row.started_at,
    destination: work.kind === 'port' ? `${work.host ?? ''}:${work.port ?? ''}` : undefined,
  };
}

interface StreamTarget {
  readonly accountId: string;
  readonly logGroupName: string;
  readonly facts: SessionFacts;
}

/**
 * cloudWatchStreamingEnabled: a session's terminal input and output go to its log stream while
 * it runs, in batches (every `intervalMs`, and at its end, before the rest is delivered), an
 * event as soon as it is whole: the last group of frames (a line still being typed or printed)
 * waits for the frame that ends it, or the session's end.
 */
export class LogStreamer {
  private readonly waiting = new Map<string, RecordEntry[]>();
  private readonly targets = new Map<string, Promise<StreamTarget | undefined>>();
  /** Sessions found not to stream: their frames are not kept at all (a fast shell's output would wait here a whole interval). */
  private readonly silent = new Set<string>();
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly deps: DeliveryDeps & {
      readonly log: { error(message: string, error?: unknown): void };
      /** Resolves once what the session's record took so far is on disk: only that is streamed, so a crash cannot leave an event in the stream that the record lost (and the sender sends again). */
      readonly recorded: (sessionId: string) => Promise<void>;
    },
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => {
      void this.flush();
    }, intervalMs);
    this.timer.unref();
  }

  /**
   * At start, before frames arrive: what the last server took and had not streamed yet when it
   * stopped (a crash loses up to a second of it) is sent from each open session's record, so the
   * stream holds every terminal event once, in order. Streaming only appends, and the record's
   * events do not depend on how it was cut (terminalGroups), so the stream holds a first part of
   * them: the rest is what is missing, but for the last group, which waits here as it did there.
   */
  async catchUp(): Promise<void> {
    const open = await this.deps.db.selectFrom('sessions').selectAll().where('status', 'not in', ['Terminated', 'Failed']).execute();
    for (const row of open) {
      const plan = planOf(row);
      if (plan?.streaming !== true || plan.logGroupName === undefined) continue;
      const { entries } = await readRecord(recordPath(this.deps.dataDir, row.session_id));
      const facts = factsOf(row);
      const { events, open } = terminalEvents(facts, entries, false);
      if (open.length > 0) {
        this.waiting.set(row.session_id, open);
        this.targets.set(row.session_id, Promise.resolve({ accountId: row.account_id, logGroupName: plan.logGroupName, facts }));
      }
      const group = await findLogGroup(this.deps.db, row.account_id, plan.logGroupName);
      const stream = group === undefined ? undefined : await this.deps.db.selectFrom('log_streams').select('last_seq').where('group_id', '=', group.group_id).where('name', '=', row.session_id).executeTakeFirst();
      const missing = events.slice(stream?.last_seq ?? 0);
      if (missing.length === 0) continue;
      await ensureLogGroup(this.deps.db, { accountId: row.account_id, logGroupName: plan.logGroupName, now: this.deps.now() });
      for (const batch of logEventBatches(missing)) {
        await appendEvents(this.deps.db, { accountId: row.account_id, logGroupName: plan.logGroupName, logStreamName: row.session_id, events: batch, now: this.deps.now() });
      }
    }
  }

  /** A frame of a session's terminal, as recorded. */
  push(sessionId: string, entry: RecordEntry): void {
    if (entry.stream !== 0 || this.silent.has(sessionId)) return;
    if (!this.targets.has(sessionId)) this.targets.set(sessionId, this.lookUp(sessionId));
    const list = this.waiting.get(sessionId);
    if (list === undefined) this.waiting.set(sessionId, [entry]);
    else list.push(entry);
  }

  /** Sends what waits (of one session, or all; `final`: its last group too); one flush at a time, so events keep their order. */
  flush(sessionId?: string, final = false): Promise<void> {
    this.flushing = this.flushing.then(() => this.send(sessionId, final)).catch((error: unknown) => {
      this.deps.log.error('sessions: streaming events to the log store failed', error);
    });
    return this.flushing;
  }

  /** The session ended: what waits is sent, and it is forgotten. */
  async finish(sessionId: string): Promise<void> {
    await this.flush(sessionId, true);
    this.targets.delete(sessionId);
    this.silent.delete(sessionId);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private async send(only: string | undefined, final: boolean): Promise<void> {
    for (const [sessionId, entries] of [...this.waiting]) {
      if (only !== undefined && sessionId !== only) continue;
      this.waiting.delete(sessionId);
      const target = await this.targets.get(sessionId);
      if (target === undefined) continue;
      const { events, open } = terminalEvents(target.facts, entries, final);
      // The last group waits, ahead of whatever came meanwhile: the next frame says where it ends.
      if (open.length > 0) this.waiting.set(sessionId, [...open, ...(this.waiting.get(sessionId) ?? [])]);
      if (events.length === 0) continue;
      await this.deps.recorded(sessionId);
      await ensureLogGroup(this.deps.db, { accountId: target.accountId, logGroupName: target.logGroupName, now: this.deps.now() });
      for (const batch of logEventBatches(events)) {
        await appendEvents(this.deps.db, { accountId: target.accountId, logGroupName: target.logGroupName, logStreamName: sessionId, events: batch, now: this.deps.now() });
      }
    }
  }

  private async lookUp(sessionId: string): Promise<StreamTarget | undefined> {
    const target = await this.targetOf(sessionId);
    if (target === undefined) {
      this.silent.add(sessionId);
      this.waiting.delete(sessionId);
    }
    return target;
  }

  private async targetOf(sessionId: string): Promise<StreamTarget | undefined> {
    const row = await this.deps.db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
    const plan = row === undefined ? undefined : planOf(row);
    if (row === undefined || plan?.streaming !== true || plan.logGroupName === undefined) return undefined;
    return { accountId: row.account_id, logGroupName: plan.logGroupName, facts: factsOf(row) };
  }
}
