/**
 * The audit trail, copied into a log group, as CloudTrail delivers a trail to CloudWatch Logs:
 * with `--audit-log-group NAME`, every audit record from then on becomes one event (the record's
 * JSON, at its event time) in the management account's log group NAME (made when missing), in
 * the stream `{account}_CloudTrail_{region}`, CloudTrail's name for it.
 *
 * The copy follows the trail by seq, with a cursor in the settings table: it survives restarts
 * and skips nothing. Nodes sharing a database take turns by leasing the cursor (a conditional
 * UPDATE on its row). At least once: a node that dies between appending a batch and moving the
 * cursor leaves that batch to be appended again after the lease lapses.
 */
import { randomUUID } from 'node:crypto';
import { appendEvents, ensureLogGroup, logEventBatches, type LogEvent } from '../logs/store.js';
import type { Db } from '../storage/db.js';
import { OneAtATime } from './one-at-a-time.js';

export interface AuditLogGroupDeps {
  readonly db: Db;
  readonly clock: { now(): number };
  readonly log: { error(message: string, error?: unknown): void };
  /** The management account, whose log group it is. */
  readonly accountId: string;
  readonly region: string;
  readonly logGroupName: string;
}

interface Cursor {
  /** The last record copied. */
  readonly seq: number;
  /** The node copying now, until when (services' clock). */
  readonly holder?: string;
  readonly until?: number;
}

/** Records read at a time. */
const BATCH_RECORDS = 500;
/** How long a node holds the cursor while it copies (services' clock). */
const LEASE_MS = 60_000;
/** How often the trail is looked at without a new record from this node (real time). */
const POLL_MS = 2_000;

export class AuditLogGroup {
  private readonly nodeId = randomUUID();
  private readonly key: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly copier = new OneAtATime(
    () => this.copy(),
    (error) => {
      if (!this.closed) this.deps.log.error(`audit: copying the trail into the log group ${this.deps.logGroupName} failed; it is retried`, error);
    },
  );
  private closed = false;

  constructor(private readonly deps: AuditLogGroupDeps) {
    this.key = `audit_log_group_cursor:${deps.logGroupName}`;
  }

  /** The stream the records go to: CloudTrail's name for it. */
  get streamName(): string {
    return `${this.deps.accountId}_CloudTrail_${this.deps.region}`;
  }

  /** Starts following the trail: records from now on are copied (the cursor starts at the last record when there is none yet). */
  async start(): Promise<void> {
    const last = await this.deps.db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const cursor: Cursor = { seq: last?.seq ?? 0 };
    await this.deps.db
      .insertInto('settings')
      .values({ key: this.key, value: JSON.stringify(cursor) })
      .onConflict((conflict) => conflict.column('key').doNothing())
      .execute();
    this.timer = setInterval(() => {
      this.kick();
    }, POLL_MS);
    this.timer.unref();
  }

  /** Copies what is new now (again once the current copy ends, if one is running). */
  kick(): void {
    if (!this.closed && this.timer !== undefined) this.copier.run();
  }

  /** Waits for the copy under way, and one more. For tests. */
  async flush(): Promise<void> {
    await this.copier.current;
    this.kick();
    await this.copier.current;
  }

  private async copy(): Promise<void> {
    const { db, clock } = this.deps;
    for (;;) {
      const row = await db.selectFrom('settings').select('value').where('key', '=', this.key).executeTakeFirst();
      if (row === undefined) return;
      const cursor = JSON.parse(row.value) as Cursor;
      const now = clock.now();
      if (cursor.holder !== undefined && cursor.holder !== this.nodeId && (cursor.until ?? 0) > now) return;
      const leased = JSON.stringify({ seq: cursor.seq, holder: this.nodeId, until: now + LEASE_MS } satisfies Cursor);
      const taken = await db.updateTable('settings').set({ value: leased }).where('key', '=', this.key).where('value', '=', row.value).executeTakeFirst();
      if (taken.numUpdatedRows !== 1n) return;
      const records = await db.selectFrom('audit_events').select(['seq', 'event_time', 'record']).where('seq', '>', cursor.seq).orderBy('seq').limit(BATCH_RECORDS).execute();
      const last = records[records.length - 1];
      if (last !== undefined) await this.append(records.map((record) => ({ timestamp: record.event_time, message: record.record })));
      await db
        .updateTable('settings')
        .set({ value: JSON.stringify({ seq: last?.seq ?? cursor.seq } satisfies Cursor) })
        .where('key', '=', this.key)
        .where('value', '=', leased)
        .execute();
      if (records.length < BATCH_RECORDS) return;
    }
  }

  private async append(events: LogEvent[]): Promise<void> {
    const { db, clock, accountId, logGroupName } = this.deps;
    const now = clock.now();
    await ensureLogGroup(db, { accountId, logGroupName, now });
    for (const batch of logEventBatches(events.sort((a, b) => a.timestamp - b.timestamp))) {
      await appendEvents(db, { accountId, logGroupName, logStreamName: this.streamName, events: batch, now });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.copier.current;
  }
}

