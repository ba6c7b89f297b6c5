/**
 * The record's worker thread (one per server process, started by record-thread.ts): takes the
 * entries the broker's thread puts in the shared ring, chains each to its record's last by
 * SHA-256, writes them from the ring to their files and fdatasyncs, then says in the shared slots
 * how far each record is on disk. The broker's thread reads that when it comes by anyway; only
 * when a sender has enough bytes waiting for acknowledgement does the worker post it a message.
 * Everything here is synchronous: the thread sleeps in Atomics.wait until there is work.
 *
 * Once a batch is on disk, the record's whole pages it filled leave the page cache (page-cache.ts).
 *
 * Group commit: a batch that is small when the worker wakes from idle waits GROUP_COMMIT_MS for
 * more (keystrokes and their echoes share one fdatasync), unless the broker raises
 * Control.Urgent: a request waits in the ring, a record's first entry does, or GROUP_BYTES of
 * payload were appended. Nobody waits for this but the acknowledgements: forwarding went on when
 * the entry was put in the ring.
 */
import { createHash } from 'node:crypto';
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadDropCached } from './page-cache.js';
import { Control, ELIDED, FIXED, FRAME, GROUP_BYTES, HASH, Kind, RING_BYTES, Slot, SLOT_WORDS, WAKE_AT_BYTES, frameBytes, type OpenRequest, type SharedMemory, type WorkerMessage } from './record-ring.js';

interface OpenRecord {
  readonly fd: number;
  /** The file's size: where the next write goes (it is opened for appending). */
  size: number;
  /** Pages from here on may be in the page cache; those before were let go (a page boundary). */
  cachedFrom: number;
  head: Buffer;
  count: number;
  /** Payload bytes made durable (u32, wrapping). */
  bytes: number;
  readonly delayMs: number;
  failed: boolean;
}

/** One record's part of a batch. */
interface Part {
  readonly record: OpenRecord;
  readonly pieces: Buffer[];
  size: number;
  payload: number;
  input: number | undefined;
  output: number | undefined;
}

const shared = workerData as SharedMemory;
const control = new Int32Array(shared.control);
const slots = new Uint32Array(shared.slots);
const ring = Buffer.from(shared.ring);
const port = parentPort;
if (port === null) throw new Error('record-worker.js runs as a worker thread (record-thread.ts starts it)');
const post = (message: WorkerMessage): void => {
  port.postMessage(message);
};

const records = new Map<number, OpenRecord>();
/** The longest test-only delay among the open records. */
let delayMs = 0;
/** Once on disk, a record's pages leave the page cache (page-cache.ts); without the addon they stay. */
const pageCache = loadDropCached();
const dropCached = 'drop' in pageCache ? pageCache.drop : undefined;
/**
 * Pages as Linux has them on x86-64 (where it has other sizes, the kernel rounds the range in
 * and a page may stay cached: a little memory, no harm).
 */
const PAGE_BYTES = 4096;

/** After a sync: lets go of the record's whole pages now on disk. The last page, partly written, stays: the next write would read it back from the disk. */
function letGo(record: OpenRecord): void {
  const end = record.size - (record.size % PAGE_BYTES);
  if (dropCached === undefined || end <= record.cachedFrom) return;
  // Advice only: whatever it answers, the bytes are on disk.
  dropCached(record.fd, record.cachedFrom, end - record.cachedFrom);
  record.cachedFrom = end;
}

/** Nobody notifies this: a sleep that nothing cuts short. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Waits up to `ms` for more entries; returns at once, or early, once the broker raises Urgent. */
function nap(ms: number): void {
  Atomics.wait(control, Control.Urgent, 0, ms);
}

function errorOf(error: unknown): { message: string; code: string | undefined } {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { message: error instanceof Error ? error.message : String(error), code: typeof code === 'string' ? code : undefined };
}

function open(slot: number, token: number, request: OpenRequest): void {
  try {
    mkdirSync(dirname(request.path), { recursive: true, mode: 0o700 });
    const fd = openSync(request.path, 'a', 0o600);
    const size = fstatSync(fd).size;
    records.set(slot, { fd, size, cachedFrom: size - (size % PAGE_BYTES), head: Buffer.from(request.head, 'hex'), count: request.entries, bytes: 0, delayMs: request.delayMs, failed: false });
    delayMs = Math.max(delayMs, request.delayMs);
    post({ kind: 'opened', token });
  } catch (error) {
    post({ kind: 'refused', token, ...errorOf(error) });
  }
}

function close(slot: number, token: number): void {
  const record = records.get(slot);
  records.delete(slot);
  if (record !== undefined) {
    closeSync(record.fd);
    if (record.delayMs === delayMs) delayMs = Math.max(0, ...[...records.values()].map((open) => open.delayMs));
  }
  post({ kind: 'closed', token });
}

/** Chains the entry at `body` (its hash goes in the space left for it) and adds it to its record's part of the batch. */
function take(parts: Map<number, Part>, slot: number, body: number, length: number): void {
  const record = records.get(slot);
  if (record === undefined || record.failed) return;
  const hashAt = body + length - HASH;
  const hash = createHash('sha256').update(record.head).update(ring.subarray(body, hashAt)).digest();
  hash.copy(ring, hashAt);
  record.head = hash;
  record.count += 1;
  let part = parts.get(slot);
  if (part === undefined) {
    part = { record, pieces: [], size: 0, payload: 0, input: undefined, output: undefined };
    parts.set(slot, part);
  }
  part.pieces.push(ring.subarray(body, body + length));
  part.size += length;
  // What the sender waits for is the bytes the frame carried: an elided entry holds their count.
  part.payload += (ring.readUInt8(body + 7) & ELIDED) === 0 ? length - 4 - FIXED - HASH : ring.readUInt32BE(body + 4 + FIXED);
  const inSeq = ring.readUInt32BE(body + 12);
  if (ring[body + 4] === 0) part.input = inSeq;
  else part.output = inSeq;
}

/** Writes and syncs each record's part, then publishes how far each is on disk. */
function commit(parts: Map<number, Part>): void {
  let wake = false;
  for (const [slot, part] of parts) {
    const { record } = part;
    try {
      // libuv goes on after partial writes and past IOV_MAX; a short count is a full disk.
      const written = writevSync(record.fd, part.pieces);
      if (written !== part.size) throw new Error(`the record took ${written} of ${part.size} bytes (is the disk full?)`);
      fdatasyncSync(record.fd);
    } catch (error) {
      record.failed = true;
      post({ kind: 'failed', slot, ...errorOf(error) });
      continue;
    }
    record.size += part.size;
    letGo(record);
    const base = slot * SLOT_WORDS;
    record.bytes = (record.bytes + part.payload) >>> 0;
    if (part.input !== undefined) Atomics.store(slots, base + Slot.Input, part.input);
    if (part.output !== undefined) Atomics.store(slots, base + Slot.Output, part.output);
    Atomics.store(slots, base + Slot.Bytes, record.bytes);
    Atomics.store(slots, base + Slot.Count, record.count >>> 0);
    // Stored before these are read, as the broker clears WakePosted before it reads the above:
    // one of the two sees the other, so a wake-up is not lost between them.
    if (Atomics.load(slots, base + Slot.WakePosted) === 0 && (record.bytes - Atomics.load(slots, base + Slot.ReportedBytes)) >>> 0 >= WAKE_AT_BYTES) {
      Atomics.store(slots, base + Slot.WakePosted, 1);
      wake = true;
    }
  }
  parts.clear();
  if (wake) post({ kind: 'durable' });
}

/** Takes the frames from `tail` to `head`; returns where it stopped (`head`). */
function batch(tail: number, head: number): number {
  const parts = new Map<number, Part>();
  let at = tail;
  while (at !== head) {
    const kind = ring.readUInt16LE(at);
    if (kind === Kind.Wrap) {
      at = 0;
      continue;
    }
    const slot = ring.readUInt32LE(at + 4);
    const length = ring.readUInt32LE(at + 8);
    const token = ring.readUInt32LE(at + 12);
    const gap = ring.readUInt16LE(at + 2);
    const body = at + FRAME + gap;
    if (kind === Kind.Entry) {
      take(parts, slot, body, length);
    } else {
      // What came before a request is on disk before it is answered.
      commit(parts);
      if (kind === Kind.Open) {
        open(slot, token, JSON.parse(ring.toString('utf8', body, body + length)) as OpenRequest);
      } else if (kind === Kind.Sync) {
        const record = records.get(slot);
        post({ kind: 'synced', token, head: record?.head.toString('hex') ?? '', entries: record?.count ?? 0 });
      } else if (kind === Kind.Close) {
        close(slot, token);
      } else {
        throw new Error(`the record ring holds a frame of unknown kind ${kind} at ${at}`);
      }
    }
    at = (at + frameBytes(length, gap)) % RING_BYTES;
  }
  commit(parts);
  return at;
}

let tail = Atomics.load(control, Control.Tail);
/**
 * When the group now gathering began: on waking from having nothing to do, or at the last
 * batch. A small batch waits for company until groupCommitMs after it, so small entries that
 * keep coming (typing, a program printing a little at a time) are synced a few times a second,
 * not once per batch met right behind the last (about 35 a second under the echo bench).
 */
let groupFrom = performance.now();
for (;;) {
  let head = Atomics.load(control, Control.Head);
  if (head === tail) {
    Atomics.wait(control, Control.Head, head);
    groupFrom = performance.now();
    continue;
  }
  const wait = groupFrom + shared.groupCommitMs - performance.now();
  if (wait > 0 && Atomics.load(control, Control.Appended) < GROUP_BYTES) nap(wait);
  // Lowered before the head is read: what the broker puts after this raises them again.
  Atomics.store(control, Control.Urgent, 0);
  Atomics.store(control, Control.Appended, 0);
  head = Atomics.load(control, Control.Head);
  groupFrom = performance.now();
  // Tests only: a slow disk, each batch taking delayMs more to write (what comes meanwhile waits for the next).
  if (delayMs > 0) Atomics.wait(sleeper, 0, 0, delayMs);
  tail = batch(tail, head);
  Atomics.store(control, Control.Tail, tail);
  // Stored before this is read, as the broker raises WantRoom before it looks at the tail again.
  if (Atomics.load(control, Control.WantRoom) === 1) {
    Atomics.store(control, Control.WantRoom, 0);
    post({ kind: 'room' });
  }
}
