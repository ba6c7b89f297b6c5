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
 * a password prompt (the terminal's echo off, see data.hidesInput), recorded without its bytes. A torn tail (a crash mid-write) is cut off at the last whole entry when read.
 */
import { createHash } from 'node:crypto';
import { open, readFile, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { data } from '@airlock/protocol';

export type Direction = 'input' | 'output';

export interface RecordEntry {
  readonly direction: Direction;
  readonly type: data.FrameType;
  readonly flags: number;
  readonly stream: number;
  /** Its number on the hop it arrived on, and on the hop it was passed to. */
  readonly inSeq: number;
  readonly outSeq: number;
  readonly time: number;
  readonly payload: Uint8Array;
  /** The frame's bytes were withheld (input at a password prompt): payload is empty. */
  readonly withheld?: boolean;
}

const FIXED = 1 + 1 + 1 + 1 + 4 + 4 + 4 + 8;
const WITHHELD = 0x01;
const HASH = 32;
export const GENESIS = Buffer.alloc(HASH);

export function recordPath(dataDir: string, sessionId: string): string {
  return join(dataDir, 'records', `${sessionId}.rec`);
}

/**
 * An entry as the pieces written for it (header, payload, hash: no copy of the payload) and its
 * chain hash.
 */
function encodeEntry(entry: RecordEntry, previous: Buffer): { pieces: Buffer[]; hash: Buffer } {
  const header = Buffer.allocUnsafe(4 + FIXED);
  header.writeUInt32BE(FIXED + entry.payload.length + HASH, 0);
  header.writeUInt8(entry.direction === 'input' ? 0 : 1, 4);
  header.writeUInt8(entry.type, 5);
  header.writeUInt8(entry.flags, 6);
  header.writeUInt8(entry.withheld === true ? WITHHELD : 0, 7);
  header.writeUInt32BE(entry.stream, 8);
  header.writeUInt32BE(entry.inSeq, 12);
  header.writeUInt32BE(entry.outSeq, 16);
  header.writeDoubleBE(entry.time, 20);
  const payload = Buffer.from(entry.payload.buffer, entry.payload.byteOffset, entry.payload.byteLength);
  const hash = createHash('sha256').update(previous).update(header).update(payload).digest();
  return { pieces: payload.length === 0 ? [header, hash] : [header, payload, hash], hash };
}

/** How long the first entry of a batch waits for others before the batch is written and synced. */
export const GROUP_COMMIT_MS = 2;

/** Appends entries in batches; `flushed` says up to where the file is on disk. */
export class RecordWriter {
  /** The pieces of the entries not yet written (payloads are the frames' own bytes, which nobody changes). */
  private pending: Buffer[] = [];
  /** The last inSeq of each direction among them. */
  private pendingDurable: Partial<Record<Direction, number>> = {};
  private writing: Promise<void> | undefined;
  private failed: Error | undefined;
  private closed = false;

  private constructor(
    /** Undefined: a writer that records nothing (BrokerOptions.unrecorded, for benchmarks). */
    private readonly file: FileHandle | undefined,
    private head: Buffer,
    private count: number,
    /** Called after each batch reaches the disk, with the last inSeq written for each direction. */
    private readonly onDurable: (durable: Partial<Record<Direction, number>>) => void,
    private readonly onError: (error: Error) => void,
    /** Tests only (BrokerOptions.recordDelayMs): extra wait before each batch is written. */
    private readonly delayMs = 0,
  ) {}

  /** Opens for appending; `continued` is the chain and count of a record read back after a restart. */
  static async open(path: string, continued: { head: Buffer; entries: number }, onDurable: RecordWriter['onDurable'], onError: RecordWriter['onError'], delayMs = 0): Promise<RecordWriter> {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
    const file = await open(path, 'a', 0o600);
    return new RecordWriter(file, continued.head, continued.entries, onDurable, onError, delayMs);
  }

  /**
   * A writer that keeps nothing and says each batch is durable at once, as a batch written would
   * be: what a session costs without its record. Benchmarks only (BrokerOptions.unrecorded).
   */
  static unrecorded(onDurable: RecordWriter['onDurable']): RecordWriter {
    return new RecordWriter(undefined, GENESIS, 0, onDurable, () => undefined);
  }

  /** The chain hash of the last entry appended (written or not). */
  get chainHead(): Buffer {
    return this.head;
  }

  get entryCount(): number {
    return this.count;
  }

  append(entry: RecordEntry): void {
    if (this.closed) return;
    if (this.file === undefined) {
      this.pendingDurable[entry.direction] = entry.inSeq;
      this.writing ??= this.acknowledgeOnly();
      return;
    }
    const { pieces, hash } = encodeEntry(entry, this.head);
    this.head = hash;
    this.count += 1;
    for (const piece of pieces) this.pending.push(piece);
    this.pendingDurable[entry.direction] = entry.inSeq;
    this.writing ??= this.drain();
  }

  /** Everything appended so far, on disk. */
  async settled(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
    if (this.failed !== undefined) throw this.failed;
  }

  async close(): Promise<void> {
    await this.settled().catch(() => undefined);
    this.closed = true;
    await this.file?.close();
  }

  /** Unrecorded: the batch is "durable" after the same turn a written one would wait for. */
  private async acknowledgeOnly(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const durable = this.pendingDurable;
    this.pendingDurable = {};
    this.writing = undefined;
    this.onDurable(durable);
  }

  private async drain(): Promise<void> {
    const file = this.file;
    if (file === undefined) return;
    // Group commit: what comes in the next GROUP_COMMIT_MS joins the batch. A keystroke's echo
    // comes back in well under that, so it passes while no write is under way, and the keystroke
    // and its echo share one fdatasync; only the acknowledgement waits, never the forwarding.
    await new Promise<void>((resolve) => setTimeout(resolve, GROUP_COMMIT_MS + this.delayMs));
    while (this.pending.length > 0 && this.failed === undefined) {
      const batch = this.pending;
      const durable = this.pendingDurable;
      this.pending = [];
      this.pendingDurable = {};
      try {
        // libuv goes on after partial writes and past IOV_MAX; a short count is a full disk.
        const { bytesWritten } = await file.writev(batch);
        const expected = batch.reduce((sum, piece) => sum + piece.length, 0);
        if (bytesWritten !== expected) throw new Error(`the record took ${bytesWritten} of ${expected} bytes (is the disk full?)`);
        await file.datasync();
      } catch (error) {
        this.failed = error instanceof Error ? error : new Error(String(error));
        this.onError(this.failed);
        break;
      }
      this.onDurable(durable);
    }
    this.writing = undefined;
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
      payload: Uint8Array.from(bytes.subarray(offset + 4 + FIXED, end - HASH)),
      ...((bytes.readUInt8(offset + 7) & WITHHELD) === 0 ? {} : { withheld: true }),
    });
    head = Buffer.from(hash);
    offset = end;
  }
  return { entries, head, tornBytes: bytes.length - offset, brokenAt };
}
