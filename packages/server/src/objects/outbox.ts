/**
 * The object outbox: uploads to the object store, kept in the database until the store has
 * them, so a store that is down, or a server restart, loses none. Small bodies are kept inline;
 * larger ones and files wait in DATA/spool, removed once uploaded.
 *
 * A worker claims a due row with a conditional UPDATE (a lease: lease_owner until lease_until,
 * renewed while the upload runs), so two workers, on one node or several, never upload the same
 * row at once; a worker that dies leaves a lease that lapses, and another takes the row over. A
 * failure is kept in last_error and the row waits, with exponential backoff and jitter (1 s
 * doubling to 5 min), for its next attempt. Due times, leases and backoff follow the services'
 * clock, so tests can move it; `tick()` and `drain()` run the worker when a test says.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/db.js';
import type { Spool } from './spool.js';
import type { Encryption, ObjectStore, PutObject } from './store.js';

export interface OutboxOptions {
  /** How often (real time) the worker looks for due uploads. */
  readonly pollMs: number;
  /** How long a claim holds without renewal (services' clock). */
  readonly leaseMs: number;
  /** How often (real time) a running upload renews its claim. */
  readonly renewMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Uploads at once per worker. */
  readonly concurrency: number;
  /** Bodies up to this size are kept in the row; larger ones in DATA/spool. */
  readonly inlineMaxBytes: number;
  /** Uploaded rows are kept this long (services' clock) for operators, then removed. */
  readonly keepDoneMs: number;
  /** [0, 1): the jitter's source. */
  readonly random: () => number;
}

export const DEFAULT_OUTBOX_OPTIONS: OutboxOptions = {
  pollMs: 1_000,
  leaseMs: 60_000,
  renewMs: 20_000,
  minBackoffMs: 1_000,
  maxBackoffMs: 300_000,
  concurrency: 4,
  inlineMaxBytes: 64 * 1024,
  keepDoneMs: 7 * 24 * 3_600_000,
  random: Math.random,
};

/** One upload, as operators and tests see it. */
export interface OutboxEntry {
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly doneAt: number | null;
}

/** What one run of the worker did. */
export interface OutboxPass {
  readonly uploaded: number;
  readonly failed: number;
}

export interface OutboxDeps {
  readonly db: Db;
  readonly store: ObjectStore;
  readonly spool: Spool;
  readonly clock: { now(): number };
  readonly log: { info(message: string): void; warn(message: string): void; error(message: string, error?: unknown): void };
}

/** The delay before attempt n + 1 after n failures: 1 s doubling up to 5 min, the later half of it at random. */
export function backoffMs(failures: number, options: Pick<OutboxOptions, 'minBackoffMs' | 'maxBackoffMs' | 'random'>): number {
  const ceiling = Math.min(options.maxBackoffMs, options.minBackoffMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * options.random());
}

type Row = { id: string; bucket: string; object_key: string; spool_file: string | null; body: string | null; content_type: string; encryption: string | null; attempts: number };

export class ObjectOutbox {
  /** The claims this worker makes carry its id. */
  readonly workerId = randomUUID();
  readonly options: OutboxOptions;
  #chain: Promise<unknown> = Promise.resolve();
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly deps: OutboxDeps,
    options: Partial<OutboxOptions> = {},
  ) {
    this.options = { ...DEFAULT_OUTBOX_OPTIONS, ...options };
  }

  /** Queues an upload, durably, and returns its id. A `{ file }` body is moved into the spool (the caller's file is gone once this returns). */
  async enqueue(upload: PutObject): Promise<string> {
    const { store, spool, db, clock } = this.deps;
    store.check(upload);
    const id = randomUUID();
    let kept: { size: number; spool_file: string | null; body: string | null; commit: () => Promise<void>; rollback: () => Promise<void> };
    if (upload.body instanceof Uint8Array && upload.body.length <= this.options.inlineMaxBytes) {
      const nothing = (): Promise<void> => Promise.resolve();
      kept = { size: upload.body.length, spool_file: null, body: Buffer.from(upload.body).toString('base64'), commit: nothing, rollback: nothing };
    } else if (upload.body instanceof Uint8Array) {
      await spool.write(id, upload.body);
      kept = { size: upload.body.length, spool_file: id, body: null, commit: () => Promise.resolve(), rollback: () => spool.remove(id) };
    } else {
      kept = { ...(await spool.adopt(upload.body.file, id)), spool_file: id, body: null };
    }
    const now = clock.now();
    try {
      await db
        .insertInto('object_outbox')
        .values({
          id,
          bucket: upload.bucket,
          object_key: upload.key,
          spool_id: kept.spool_file === null ? null : spool.id,
          spool_file: kept.spool_file,
          body: kept.body,
          size: kept.size,
          content_type: upload.contentType,
          encryption: upload.encryption === undefined ? null : JSON.stringify(upload.encryption),
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          lease_owner: null,
          lease_until: null,
          created_at: now,
          done_at: null,
        })
        .execute();
    } catch (error) {
      await kept.rollback().catch(() => undefined);
      throw error;
    }
    await kept.commit().catch((error: unknown) => {
      this.deps.log.warn(`objects: the spooled copy of ${upload.key} is queued, and its original could not be removed: ${messageOf(error)}`);
    });
    if (this.#timer !== undefined) this.poll();
    return id;
  }

  /** Starts the background worker: at once (uploads left pending before a restart), then every pollMs. */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#closed) return;
    await this.sweepSpool();
    this.#timer = setInterval(() => {
      this.poll();
    }, this.options.pollMs);
    this.#timer.unref();
    this.poll();
  }

  /** Claims what is due now (up to `concurrency`) and uploads it. Runs after any pass under way. */
  tick(): Promise<OutboxPass> {
    const run = this.#chain.then(() => this.pass());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Runs the worker until nothing is due now (failures wait for their backoff). */
  async drain(): Promise<OutboxPass> {
    let uploaded = 0;
    let failed = 0;
    for (;;) {
      const pass = await this.tick();
      uploaded += pass.uploaded;
      failed += pass.failed;
      if (pass.uploaded + pass.failed === 0) return { uploaded, failed };
    }
  }

  async entry(id: string): Promise<OutboxEntry | undefined> {
    const row = await this.entries().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : entryOf(row);
  }

  /** Uploads not done yet, oldest first. */
  async pending(): Promise<OutboxEntry[]> {
    return (await this.entries().where('done_at', 'is', null).orderBy('created_at').orderBy('id').execute()).map(entryOf);
  }

  /** Stops the worker, after the uploads under way end. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#chain;
  }

  private poll(): void {
    if (this.#busy || this.#closed) return;
    this.#busy = true;
    const cutoff = this.deps.clock.now() - this.options.keepDoneMs;
    void this.deps.db
      .deleteFrom('object_outbox')
      .where('done_at', '<', cutoff)
      .execute()
      .then(() => this.drain())
      .catch((error: unknown) => {
        if (!this.#closed) this.deps.log.error('objects: the outbox worker failed', error);
      })
      .finally(() => {
        this.#busy = false;
      });
  }

  private async pass(): Promise<OutboxPass> {
    const claimed = await this.claim();
    const results = await Promise.all(claimed.map((row) => this.upload(row)));
    const uploaded = results.filter(Boolean).length;
    return { uploaded, failed: results.length - uploaded };
  }

  private async claim(): Promise<Row[]> {
    const { db, clock, spool } = this.deps;
    const now = clock.now();
    const due = await db
      .selectFrom('object_outbox')
      .select('id')
      .where('done_at', 'is', null)
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
      .where((eb) => eb.or([eb('spool_id', 'is', null), eb('spool_id', '=', spool.id)]))
      .orderBy('next_attempt_at')
      .limit(this.options.concurrency)
      .execute();
    const claimed: Row[] = [];
    for (const { id } of due) {
      const { numUpdatedRows } = await db
        .updateTable('object_outbox')
        .set({ lease_owner: this.workerId, lease_until: now + this.options.leaseMs })
        .where('id', '=', id)
        .where('done_at', 'is', null)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
        .executeTakeFirst();
      if (numUpdatedRows !== 1n) continue;
      const row = await db
        .selectFrom('object_outbox')
        .select(['id', 'bucket', 'object_key', 'spool_file', 'body', 'content_type', 'encryption', 'attempts'])
        .where('id', '=', id)
        .where('lease_owner', '=', this.workerId)
        .executeTakeFirst();
      if (row !== undefined) claimed.push(row);
    }
    return claimed;
  }

  /** One attempt at one claimed row; true when the store has it. */
  private async upload(row: Row): Promise<boolean> {
    const { db, store, spool, clock, log } = this.deps;
    const mine = (): ReturnType<typeof db.updateTable<'object_outbox'>> => db.updateTable('object_outbox').where('id', '=', row.id).where('lease_owner', '=', this.workerId);
    const renewal = setInterval(() => {
      mine()
        .set({ lease_until: clock.now() + this.options.leaseMs })
        .execute()
        .catch((error: unknown) => {
          log.warn(`objects: renewing the claim on ${row.object_key} failed: ${messageOf(error)}`);
        });
    }, this.options.renewMs);
    renewal.unref();
    const attempts = row.attempts + 1;
    try {
      await store.put({
        bucket: row.bucket,
        key: row.object_key,
        body: row.spool_file === null ? Buffer.from(row.body ?? '', 'base64') : { file: spool.path(row.spool_file) },
        contentType: row.content_type,
        ...(row.encryption === null ? {} : { encryption: JSON.parse(row.encryption) as Encryption }),
      });
    } catch (error) {
      clearInterval(renewal);
      const delay = backoffMs(attempts, this.options);
      const lastError = messageOf(error).slice(0, 2000);
      await mine().set({ attempts, last_error: lastError, next_attempt_at: clock.now() + delay, lease_owner: null, lease_until: null }).execute();
      log.warn(`objects: uploading ${row.bucket}/${row.object_key} failed (attempt ${attempts}); next in ${Math.round(delay / 1000)} s: ${lastError}`);
      return false;
    }
    clearInterval(renewal);
    const { numUpdatedRows } = await mine().set({ attempts, done_at: clock.now(), body: null, lease_owner: null, lease_until: null }).executeTakeFirst();
    // A claim lost meanwhile (renewals failing for a whole lease) leaves the row and its file to the worker that took it.
    if (numUpdatedRows === 1n && row.spool_file !== null) {
      await spool.remove(row.spool_file).catch((error: unknown) => {
        log.warn(`objects: ${row.object_key} is uploaded, and its spooled file could not be removed: ${messageOf(error)}`);
      });
    }
    return true;
  }

  private async sweepSpool(): Promise<void> {
    const { db, spool, log } = this.deps;
    const rows = await db.selectFrom('object_outbox').select('spool_file').where('done_at', 'is', null).where('spool_id', '=', spool.id).execute();
    const removed = await spool.sweep(new Set(rows.map((row) => row.spool_file ?? '')), 3_600_000);
    if (removed.length > 0) log.info(`objects: removed ${removed.length} spooled file(s) that no upload needs`);
  }

  private entries() {
    return this.deps.db.selectFrom('object_outbox').select(['id', 'bucket', 'object_key', 'size', 'attempts', 'next_attempt_at', 'last_error', 'created_at', 'done_at']);
  }
}

function entryOf(row: {
  id: string;
  bucket: string;
  object_key: string;
  size: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  done_at: number | null;
}): OutboxEntry {
  return {
    id: row.id,
    bucket: row.bucket,
    key: row.object_key,
    size: row.size,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    doneAt: row.done_at,
  };
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name === 'Error' || error.message.startsWith(error.name) ? error.message : `${error.name}: ${error.message}`;
}
