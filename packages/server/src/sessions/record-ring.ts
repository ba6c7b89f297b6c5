/**
 * What the broker's thread and the record's worker thread share (record-thread.ts, record-worker.ts):
 * the entry format on disk, and three SharedArrayBuffers.
 *
 * - `control` (Int32Array): the ring's head (next byte the broker writes) and tail (next byte the
 *   worker reads; everything before it is on disk), and a flag the broker raises when the ring is
 *   full and it waits for room.
 * - `slots` (Uint32Array, SLOT_WORDS per open record): what the worker last made durable (the
 *   last inSeq of each direction, the entry count, the payload bytes), and the broker's note of
 *   what it has acknowledged from, so the worker can tell when a wake-up is worth a message.
 * - `ring`: a byte ring of frames, each FRAME bytes (kind and gap, u16; slot, body length and
 *   token, u32; all little-endian), then `gap` bytes of nothing (payloadGap), then a body;
 *   frames are 8-byte aligned. A frame that would pass the end is put at the
 *   start, after a Wrap frame. The broker writes only at the head, the worker reads and writes
 *   only between tail and head (it puts each entry's chain hash in the space left for it, and
 *   writes the entry to the file from the ring itself).
 */
import { data } from '@airlock/protocol';

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
  /**
   * A forwarded connection's Data frame (a stream other than the terminal's): the record keeps
   * how many bytes it carried, not the bytes (payload is empty). A port or SSH session is recorded
   * as its connections, as issue 7 and DESIGN §7 say; the bytes stay with their senders until the
   * far end has them (end-to-end acknowledgement), so nothing needs them from the record.
   */
  readonly elided?: number;
}

/** An entry on disk: u32 length, then FIXED bytes of header, the payload, and the HASH. */
export const FIXED = 1 + 1 + 1 + 1 + 4 + 4 + 4 + 8;
export const HASH = 32;
/** The marks bit of a withheld entry. */
export const WITHHELD = 0x01;
/** The marks bit of an elided entry: its payload on disk is the u32 count of the bytes the frame carried. */
export const ELIDED = 0x02;
/** The bytes on disk of an elided entry's payload. */
export const ELIDED_BYTES = 4;

/**
 * How long a small batch (keystrokes, their echoes) waits for company before it is written and
 * synced: from the worker's waking from idle, or from the start of its last batch when entries
 * kept coming, so small traffic is synced a few times a second at most. Only acknowledgements
 * wait for it, never forwarding, and senders keep what is unacknowledged; each sync, though,
 * costs this kind of machine far more than its own time (docs/performance.md: 2 ms here put
 * +40–60% on the echo p50, 100 ms +12%). A request, a record's first entry, or GROUP_BYTES of
 * payload appended cuts the wait short (Control.Urgent).
 */
export const GROUP_COMMIT_MS = 100;
/**
 * Payload bytes appended since the worker's last batch that make the next go at once: so much
 * is no keystroke, and a sender's window may be filling. Counted as the frames carried them (an
 * elided entry's count, not its 4 bytes on disk), so a port forward's acknowledgements never wait.
 */
export const GROUP_BYTES = 64 * 1024;

export const RING_BYTES = 16 * 1024 * 1024;
/** Records open at once in one process. */
export const MAX_SLOTS = 16_384;
export const FRAME = 16;

/**
 * Urgent: 1 when the broker wants the batch written now (a request, a record's first entry, or
 * GROUP_BYTES appended); the worker naps on it. Appended: payload bytes appended since the worker
 * last began a batch.
 */
export const Control = { Head: 0, Tail: 1, WantRoom: 2, Urgent: 3, Appended: 4 } as const;
export const CONTROL_WORDS = 5;

export const Slot = { Input: 0, Output: 1, Count: 2, Bytes: 3, ReportedBytes: 4, WakePosted: 5 } as const;
export const SLOT_WORDS = 8;

export const Kind = { Entry: 1, Open: 2, Sync: 3, Close: 4, Wrap: 5 } as const;

/** Bytes of the ring a frame takes whose body of `body` bytes begins `gap` bytes after its header. */
export function frameBytes(body: number, gap: number): number {
  return (FRAME + gap + body + 7) & ~7;
}

/**
 * The gap that puts an entry's payload in the ring at the offset, modulo 8, of the bytes it is
 * copied from (backing stores are 8-aligned, and so are frames). V8 copies into shared memory a
 * word at a time only when source and destination are so aligned, else a byte at a time: 0.5–0.7
 * CPU s/GB instead of 0.1 on the machine of docs/performance.md, where a session's output
 * arrives at any offset of the message it came in.
 */
export function payloadGap(payload: Uint8Array): number {
  return (payload.byteOffset - (FRAME + 4 + FIXED)) & 7;
}

/** Bytes of an entry on disk (and of its frame's body). */
export function entryBytes(payload: number): number {
  return 4 + FIXED + payload + HASH;
}

/** Bytes of an entry's payload on disk: the count alone for an elided one. */
export function storedPayloadBytes(entry: RecordEntry): number {
  return entry.elided === undefined ? entry.payload.length : ELIDED_BYTES;
}

/** The marks byte of an entry on disk. */
export function marksOf(entry: RecordEntry): number {
  return (entry.withheld === true ? WITHHELD : 0) | (entry.elided === undefined ? 0 : ELIDED);
}

/** What the worker is started with: the shared memory, and how long a small batch waits (GROUP_COMMIT_MS but in tests). */
export interface SharedMemory {
  readonly control: SharedArrayBuffer;
  readonly slots: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  readonly groupCommitMs: number;
}

/** Opening a record (the body of an Open frame). */
export interface OpenRequest {
  readonly path: string;
  /** The chain head and entry count to go on from (hex; a record read back after a restart). */
  readonly head: string;
  readonly entries: number;
  /** Tests only: how long each batch waits before its write (never cut short). */
  readonly delayMs: number;
}

/** What the worker posts to the broker's thread. */
export type WorkerMessage =
  | { readonly kind: 'opened'; readonly token: number }
  | { readonly kind: 'refused'; readonly token: number; readonly message: string; readonly code: string | undefined }
  | { readonly kind: 'synced'; readonly token: number; readonly head: string; readonly entries: number }
  | { readonly kind: 'closed'; readonly token: number }
  | { readonly kind: 'failed'; readonly slot: number; readonly message: string; readonly code: string | undefined }
  /** Some record's sender has enough unacknowledged bytes on disk now that its acknowledgement should not wait. */
  | { readonly kind: 'durable' }
  /** The ring has room again. */
  | { readonly kind: 'room' };

/**
 * Payload bytes made durable since the broker last looked, past which the worker wakes it: as
 * many as make an Ack urgent, so a sender that waits for its window is never left waiting.
 */
export const WAKE_AT_BYTES = data.ACK_AT_BYTES;
