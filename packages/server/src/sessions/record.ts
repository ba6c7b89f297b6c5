/**
 * A session's record: an append-only file (DATA/records/{sessionId}.rec) holding every frame the
 * broker passed between client and agent, in order, each chained to the one before by SHA-256.
 * The broker acknowledges a frame to its sender only once the record holding it is on disk
 * (written and fdatasync'd in batches), so a crash at any moment loses nothing that was
 * acknowledged; what was not, the sender still holds and sends again.
 *
 * An entry, big-endian:
 *
 *   u32 length of what follows · u8 direction (0: client → agent, 1: agent → client)
 *   u8 frame type · u8 flags · u8 marks · u32 stream · u32 seq on the sending hop
 *   u32 seq on the receiving hop · f64 time (epoch ms) · payload · 32-byte chain hash
 *
 * where the chain hash is SHA-256(previous hash ‖ the entry before its hash), from 32 zero
 * bytes. Marks: bit 0 (WITHHELD) says the frame's payload is not in the record: input typed at
 * a password prompt (the terminal's echo off, see data.hidesInput), recorded without its bytes.
 * Bit 1 (ELIDED): a forwarded connection's Data frame, whose payload in the record is the u32
 * count of the bytes it carried (a port session is recorded as its connections: who, where, how
 * many bytes each way, how long). A torn tail (a crash mid-write) is cut off at the last whole
 * entry when read.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { data } from '@airlock/protocol';
import { ELIDED, ELIDED_BYTES, FIXED, HASH, Slot, WITHHELD, type Direction, type RecordEntry } from './record-ring.js';
import { RecordThread, type ThreadClient } from './record-thread.js';

export type { Direction, RecordEntry } from './record-ring.js';

export const GENESIS = Buffer.alloc(HASH);
const NO_BYTES = new Uint8Array(0);

export function recordPath(dataDir: string, sessionId: string): string {
  return join(dataDir, 'records', `${sessionId}.rec`);
}

/** Called as entries reach the disk, with the last inSeq on disk of each direction that moved. */
export type OnDurable = (durable: Partial<Record<Direction, number>>) => void;

/**
 * Appends entries to a record. The hashing, the writes and the fdatasyncs are the record's
 * worker thread's (record-thread.ts, record-worker.ts): `append` copies the entry into memory
 * shared with it and returns; `onDurable` says up to where the file is on disk, soon after it
 * is (when the next entry is appended, after POLL_MS at most, or at once when a sender has
 * WAKE_AT_BYTES waiting for acknowledgement).
 */
export class RecordWriter {
  /** Entries appended (with those of a continued record). */
  private appended: number;
  /** The entry count on disk at the last poll, and the last inSeq of each direction then. */
  private reportedCount: number;
  private readonly reportedSeq: Record<Direction, number> = { input: 0, output: 0 };
  private watching = false;
  private pollQueued = false;
  private failed: Error | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private slot = -1;
  /** What the thread calls: kept off the writer's own interface. */
  private readonly client: ThreadClient = {
    poll: () => {
      this.poll();
    },
    fail: (error) => {
      this.fail(error);
    },
  };
  /** Unrecorded: the last inSeq of each direction not yet said durable, and the turn that will. */
  private pendingDurable: Partial<Record<Direction, number>> = {};
  private acknowledging: Promise<void> | undefined;

  private constructor(
    /** Undefined: a writer that records nothing (BrokerOptions.unrecorded, for benchmarks). */
    private readonly thread: RecordThread | undefined,
    private head: Buffer,
    private count: number,
    private readonly onDurable: OnDurable,
    private readonly onError: (error: Error) => void,
  ) {
    this.appended = count;
    this.reportedCount = count >>> 0;
  }

  /**
   * Opens for appending; `continued` is the chain and count of a record read back after a
   * restart. Tests only: `delayMs` (BrokerOptions.recordDelayMs) more before each batch is written.
   */
  static async open(path: string, continued: { head: Buffer; entries: number }, onDurable: OnDurable, onError: (error: Error) => void, delayMs = 0): Promise<RecordWriter> {
    const thread = RecordThread.shared();
    const writer = new RecordWriter(thread, continued.head, continued.entries, onDurable, onError);
    const slot = thread.allocate(writer.client, continued.entries);
    try {
      const reply = await thread.open(slot, { path, head: continued.head.toString('hex'), entries: continued.entries, delayMs });
      if (reply.kind === 'refused') {
        const error: NodeJS.ErrnoException = new Error(reply.message);
        if (reply.code !== undefined) error.code = reply.code;
        throw error;
      }
    } catch (error) {
      thread.release(slot);
      throw error;
    }
    writer.slot = slot;
    return writer;
  }

  /**
   * A writer that keeps nothing and says each batch is durable at once, as a batch written would
   * be: what a session costs without its record. Benchmarks only (BrokerOptions.unrecorded).
   */
  static unrecorded(onDurable: OnDurable): RecordWriter {
    return new RecordWriter(undefined, GENESIS, 0, onDurable, () => undefined);
  }

  /** The chain hash of the last entry on disk when settled() last resolved. */
  get chainHead(): Buffer {
    return this.head;
  }

  /** The entries on disk when settled() last resolved. */
  get entryCount(): number {
    return this.count;
  }

  append(entry: RecordEntry): void {
    if (this.closed || this.failed !== undefined) return;
    const { thread } = this;
    if (thread === undefined) {
      this.pendingDurable[entry.direction] = entry.inSeq;
      this.acknowledging ??= this.acknowledgeOnly();
      return;
    }
    // A record's first entry goes to disk at once: after a crash, a session is revived from its
    // record only if that holds something (its ends then send again what it lacks).
    thread.append(this.slot, entry, this.appended === 0);
    this.appended += 1;
    if (!this.watching) {
      this.watching = true;
      thread.watch(this.client);
    }
    // Passing by anyway: what the worker has finished since is taken once this turn is done.
    if (!this.pollQueued && thread.read(this.slot, Slot.Count) !== this.reportedCount) {
      this.pollQueued = true;
      queueMicrotask(() => {
        this.pollQueued = false;
        this.poll();
      });
    }
  }

  /** Everything appended so far, on disk. */
  async settled(): Promise<void> {
    const { thread } = this;
    if (thread === undefined) {
      while (this.acknowledging !== undefined) await this.acknowledging;
      return;
    }
    this.throwIfFailed();
    const reply = await thread.sync(this.slot);
    this.throwIfFailed();
    if (reply.kind === 'synced') {
      this.head = Buffer.from(reply.head, 'hex');
      this.count = reply.entries;
    }
    this.poll();
  }

  close(): Promise<void> {
    this.closing ??= this.shut();
    return this.closing;
  }

  private async shut(): Promise<void> {
    await this.settled().catch(() => undefined);
    this.closed = true;
    const { thread } = this;
    if (thread === undefined) return;
    this.watching = false;
    try {
      await thread.close(this.slot);
    } catch {
      // The thread stopped: the file went with it.
    } finally {
      thread.release(this.slot);
    }
  }

  private throwIfFailed(): void {
    if (this.failed !== undefined) throw this.failed;
  }

  /** Passes on how far the record is on disk, if further than last time. */
  private poll(): void {
    const { thread, slot } = this;
    if (thread === undefined || this.closed || this.failed !== undefined) return;
    thread.clearWake(slot);
    const bytes = thread.read(slot, Slot.Bytes);
    const count = thread.read(slot, Slot.Count);
    thread.reported(slot, bytes);
    if (count === this.appended >>> 0 && this.watching) {
      this.watching = false;
      thread.unwatch(this.client);
    }
    if (count === this.reportedCount) return;
    this.reportedCount = count;
    const durable: Partial<Record<Direction, number>> = {};
    for (const [direction, word] of [['input', Slot.Input], ['output', Slot.Output]] as const) {
      const seq = thread.read(slot, word);
      if (seq !== this.reportedSeq[direction]) durable[direction] = this.reportedSeq[direction] = seq;
    }
    this.onDurable(durable);
  }

  private fail(error: Error): void {
    if (this.failed !== undefined || this.closed) return;
    this.failed = error;
    if (this.watching) this.thread?.unwatch(this.client);
    this.watching = false;
    this.onError(error);
  }

  /** Unrecorded: the batch is "durable" after the same turn a written one would wait for. */
  private async acknowledgeOnly(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const durable = this.pendingDurable;
    this.pendingDurable = {};
    this.acknowledging = undefined;
    this.onDurable(durable);
  }
}

export interface ReadRecord {
  readonly entries: RecordEntry[];
  /** The chain hash after the last whole entry. */
  readonly head: Buffer;
  /** Bytes of a torn last entry that were cut off (a crash while writing). */
  readonly tornBytes: number;
  /** The first entry whose hash does not match the chain, if any. */
  readonly brokenAt: number | undefined;
}

/** Reads a record whole, checking its chain. A missing file is an empty record. */
export async function readRecord(path: string): Promise<ReadRecord> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], head: GENESIS, tornBytes: 0, brokenAt: undefined };
    throw error;
  }
  return parseRecord(bytes);
}

/** An entry's payload as stored, by its marks: the bytes, none (withheld), or their count (elided). */
function entryPayload(stored: Buffer, marks: number): Pick<RecordEntry, 'payload' | 'withheld' | 'elided'> {
  const withheld = (marks & WITHHELD) === 0 ? {} : { withheld: true };
  if ((marks & ELIDED) !== 0 && stored.length === ELIDED_BYTES) return { payload: NO_BYTES, elided: stored.readUInt32BE(0), ...withheld };
  return { payload: Uint8Array.from(stored), ...withheld };
}

/** A record's bytes, read whole, its chain checked. */
export function parseRecord(bytes: Buffer): ReadRecord {
  const entries: RecordEntry[] = [];
  let head = GENESIS;
  let offset = 0;
  let brokenAt: number | undefined;
  while (offset + 4 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const end = offset + 4 + length;
    if (length < FIXED + HASH || end > bytes.length) break;
    const body = bytes.subarray(offset, end - HASH);
    const hash = bytes.subarray(end - HASH, end);
    const expected = createHash('sha256').update(head).update(body).digest();
    if (brokenAt === undefined && !expected.equals(hash)) brokenAt = entries.length;
    const type = bytes.readUInt8(offset + 5);
    entries.push({
      direction: bytes.readUInt8(offset + 4) === 0 ? 'input' : 'output',
      type: type as data.FrameType,
      flags: bytes.readUInt8(offset + 6),
      stream: bytes.readUInt32BE(offset + 8),
      inSeq: bytes.readUInt32BE(offset + 12),
      outSeq: bytes.readUInt32BE(offset + 16),
      time: bytes.readDoubleBE(offset + 20),
      ...entryPayload(bytes.subarray(offset + 4 + FIXED, end - HASH), bytes.readUInt8(offset + 7)),
    });
    head = Buffer.from(hash);
    offset = end;
  }
  return { entries, head, tornBytes: bytes.length - offset, brokenAt };
}
