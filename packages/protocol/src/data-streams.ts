/**
 * Streams on the data channel: the rules both ends of a session (agent and CLI or browser)
 * follow for the terminal's bytes and for forwarded TCP connections, on top of the frames and
 * the Link of data-channel.ts. Pure: no I/O, no Node types, Uint8Array only.
 *
 * Splitting. A frame carries at most MAX_PAYLOAD bytes; `split` and `dataFrames` cut a bigger
 * read into frames (subarrays, no copy).
 *
 * Forwarded connections (stream n ≥ 1). The client opens them, with ids that only increase
 * (1, 2, 3…, never reused in a session):
 *
 *   client → agent  Open            (flags 0)            a new TCP connection
 *   agent  → client Open  Ok                             connected
 *                or Close Reset, payload the reason      not connected; the stream is over
 *   either way      Data                                 bytes, within the sender's credit
 *   either way      Window u32                           more credit for the other side
 *   either way      Close Fin                            no more bytes this way (half-close)
 *   either way      Close Reset, payload the reason      abort, both ways, at once
 *
 * The opener may send Data right after Open, before the Ok (the acceptor keeps it, within the
 * credit, until it has connected); the acceptor sends nothing but the answer before accepting.
 *
 * Credit. Each stream starts with STREAM_WINDOW bytes of credit in each direction. A sender
 * subtracts what it sends and stops reading its source at 0 (`Stream.paused`): bytes it has read
 * beyond its credit wait in the stream, as does a Fin after them. A receiver returns credit with
 * Window frames once it has written the bytes to its socket (`Stream.written`), in batches of
 * WINDOW_UPDATE bytes, so one slow connection stalls only itself. More Data than the credit
 * allows, Data after a Fin, a second Fin, or frames for a stream never opened are violations: the
 * stream is reset (`Incoming.kind === 'violation'`, with the Reset to send).
 *
 * States, from one end's side (as HTTP/2's):
 *
 *   opening ──Ok──▶ open ──Fin sent──▶ half-closed-local ──Fin received──▶ closed
 *                        ──Fin received──▶ half-closed-remote ──Fin sent──▶ closed
 *   any ──Reset (either way)──▶ closed
 *
 * Frames that arrive for a closed stream (the other side sent them before it saw our Reset) are
 * ignored. Stream 0, the terminal or command, has no credit of its own: the Link's window is its
 * flow control.
 */
import { ACK_DELAY_MS, FrameError, FrameFlag, FrameType, HEADER_BYTES, MAX_PAYLOAD, STREAM_WINDOW, encodeFrames, fromUtf8, inPlace, readWindow, utf8, windowPayload, type Frame, type Link, type Outgoing } from './data-channel.js';

/** Credit is returned once this many written bytes have gathered (a quarter of the window: few Window frames, and never a stall). */
export const WINDOW_UPDATE = STREAM_WINDOW / 4;
/** The largest stream id. */
export const MAX_STREAM = 0xffff_ffff;

export class StreamError extends Error {}

/** `bytes` in pieces of at most `max` bytes (views on the same memory). */
export function split(bytes: Uint8Array, max = MAX_PAYLOAD): Uint8Array[] {
  if (!(max > 0)) throw new StreamError(`pieces of ${max} bytes`);
  if (bytes.length <= max) return bytes.length === 0 ? [] : [bytes];
  const pieces: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += max) pieces.push(bytes.subarray(offset, Math.min(offset + max, bytes.length)));
  return pieces;
}

/** The largest WebSocket message a side sends: four full frames (the server's data doors take no more). */
export const MAX_MESSAGE = 4 * (HEADER_BYTES + MAX_PAYLOAD);

/**
 * Frames in order, as few messages as fit in `max` bytes each (a frame is never cut). Frames
 * that can go from where they arrived (inPlace) are sent from there, neighbours in one message;
 * the others are copied into new ones.
 */
export function pack(frames: readonly Frame[], max = MAX_MESSAGE): Uint8Array[] {
  const messages: Uint8Array[] = [];
  let batch: Frame[] = [];
  let size = 0;
  let span: Uint8Array | undefined;
  const endBatch = (): void => {
    if (batch.length > 0) messages.push(encodeFrames(batch));
    batch = [];
    size = 0;
  };
  const endSpan = (): void => {
    if (span !== undefined) messages.push(span);
    span = undefined;
  };
  for (const frame of frames) {
    const wire = inPlace(frame);
    if (wire !== undefined) {
      endBatch();
      if (span !== undefined && follows(span, wire, max)) span = new Uint8Array(span.buffer, span.byteOffset, span.length + wire.length);
      else {
        endSpan();
        span = wire;
      }
      continue;
    }
    endSpan();
    const bytes = HEADER_BYTES + frame.payload.length;
    if (batch.length > 0 && size + bytes > max) endBatch();
    batch.push(frame);
    size += bytes;
  }
  endSpan();
  endBatch();
  return messages;
}

/** Whether `next` starts where `span` ends, in the same memory, and the two fit in one message of `max` bytes. */
function follows(span: Uint8Array, next: Uint8Array, max: number): boolean {
  return span.buffer === next.buffer && span.byteOffset + span.length === next.byteOffset && span.length + next.length <= max;
}

/** Data frames for `bytes` on `stream` (the terminal: 0), each within MAX_PAYLOAD. */
export function dataFrames(stream: number, bytes: Uint8Array): Outgoing[] {
  return split(bytes).map((payload) => ({ type: FrameType.Data, stream, payload }));
}

export type StreamState = 'opening' | 'open' | 'half-closed-local' | 'half-closed-remote' | 'closed';

/** The Open (Ok) an acceptor answers with, or the one an opener sends. */
export const openFrame = (stream: number): Outgoing => ({ type: FrameType.Open, stream });
export const okFrame = (stream: number): Outgoing => ({ type: FrameType.Open, flags: FrameFlag.Ok, stream });
export const finFrame = (stream: number): Outgoing => ({ type: FrameType.Close, flags: FrameFlag.Fin, stream });
export const resetFrame = (stream: number, reason: string): Outgoing => ({ type: FrameType.Close, flags: FrameFlag.Reset, stream, payload: utf8(reason.slice(0, 1024)) });
export const windowFrame = (stream: number, credit: number): Outgoing => ({ type: FrameType.Window, stream, payload: windowPayload(credit) });

/**
 * One forwarded connection, from one end's side: its state, the credit it may still spend
 * (sending) and the credit it owes back (receiving). Local events go through its methods, each
 * returning the frames to send (give them to Link.send in order); the peer's frames go through
 * StreamTable.receive.
 */
export class Stream {
  private accepted = false;
  private localFin = false;
  private remoteFin = false;
  private aborted = false;
  /** Bytes this end may still send. */
  private sendCredit: number;
  /** Bytes read beyond the credit, and whether a Fin waits behind them. */
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private finQueued = false;
  /** Bytes the peer may still send, and bytes written out that are not yet returned as credit. */
  private receiveCredit: number;
  private unreturned = 0;

  constructor(
    readonly id: number,
    /** True at the end that sent Open (the client), false at the one that answers it (the agent). */
    readonly opener: boolean,
    private readonly onClosed: (stream: Stream) => void = () => undefined,
    window = STREAM_WINDOW,
  ) {
    if (!Number.isInteger(id) || id < 1 || id > MAX_STREAM) throw new StreamError(`stream ids go from 1 to ${MAX_STREAM}, not ${id}`);
    this.sendCredit = window;
    this.receiveCredit = window;
  }

  get state(): StreamState {
    if (this.closed) return 'closed';
    if (!this.accepted) return 'opening';
    if (this.localFin) return 'half-closed-local';
    if (this.remoteFin) return 'half-closed-remote';
    return 'open';
  }

  get closed(): boolean {
    return this.aborted || (this.localFin && this.remoteFin);
  }

  /** Credit left to spend. */
  get credit(): number {
    return this.sendCredit;
  }

  /** Bytes read and waiting for credit. */
  get buffered(): number {
    return this.queuedBytes;
  }

  /** Stop reading the source: no credit left, or bytes already waiting for it. */
  get paused(): boolean {
    return this.sendCredit <= 0 || this.queuedBytes > 0;
  }

  /** May this end still send Data (not after its Fin or a Reset; the acceptor not before its Ok)? */
  get canSend(): boolean {
    return !this.closed && !this.localFin && !this.finQueued && (this.accepted || this.opener);
  }

  /** May the peer still send Data (not after its Fin or a Reset; the acceptor not before its Ok)? */
  get canReceive(): boolean {
    return !this.closed && !this.remoteFin && (this.accepted || !this.opener);
  }

  /** The acceptor connected: Open (Ok). */
  accept(): Outgoing[] {
    if (this.opener || this.accepted || this.closed) throw new StreamError(`stream ${this.id} cannot be accepted: it is ${this.state}`);
    this.accepted = true;
    return [okFrame(this.id)];
  }

  /** Bytes read from this end's socket: the Data frames the credit allows now; the rest waits (see `paused`). The stream keeps `bytes` (not a copy) until sent. */
  write(bytes: Uint8Array): Outgoing[] {
    if (!this.canSend) throw new StreamError(`stream ${this.id} takes no more data from this end: it is ${this.finQueued && !this.localFin ? 'finishing' : this.state}`);
    if (bytes.length === 0) return [];
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    return this.flush();
  }

  /** This end's socket ended: Close (Fin), after any bytes still waiting for credit. */
  fin(): Outgoing[] {
    if (!this.canSend) throw new StreamError(`stream ${this.id} cannot send a Fin: it is ${this.finQueued && !this.localFin ? 'finishing' : this.state}`);
    this.finQueued = true;
    return this.flush();
  }

  /** Abort: Close (Reset) with the reason; the stream is over (nothing to send when it already was). */
  reset(reason: string): Outgoing[] {
    if (this.closed) return [];
    this.aborted = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.onClosed(this);
    return [resetFrame(this.id, reason)];
  }

  /** `bytes` of the peer's Data were written to this end's socket: a Window frame when enough credit is owed back. */
  written(bytes: number): Outgoing[] {
    if (!this.canReceive) return [];
    this.unreturned += bytes;
    if (this.unreturned < WINDOW_UPDATE) return [];
    const credit = this.unreturned;
    this.unreturned = 0;
    this.receiveCredit += credit;
    return [windowFrame(this.id, credit)];
  }

  /* The peer's side: StreamTable.receive calls these. */

  /** @internal */
  peerAccepted(): void {
    if (!this.opener || this.accepted) throw new StreamError(`an Ok for stream ${this.id}, which is ${this.state}`);
    this.accepted = true;
  }

  /** @internal */
  peerData(length: number): void {
    if (!this.canReceive) throw new StreamError(`data on stream ${this.id} after its end (${this.state})`);
    if (length > this.receiveCredit) throw new StreamError(`stream ${this.id} sent ${length} bytes with ${this.receiveCredit} of credit`);
    this.receiveCredit -= length;
  }

  /** @internal */
  peerWindow(credit: number): Outgoing[] {
    if (credit === 0 || credit > MAX_STREAM - this.sendCredit) throw new StreamError(`a Window of ${credit} on stream ${this.id} with ${this.sendCredit} left`);
    this.sendCredit += credit;
    return this.flush();
  }

  /** @internal */
  peerFin(): void {
    if (!this.canReceive) throw new StreamError(this.remoteFin ? `a second Fin on stream ${this.id}` : `a Fin on stream ${this.id}, which is ${this.state}`);
    this.remoteFin = true;
    if (this.closed) this.onClosed(this);
  }

  /** @internal */
  peerReset(): void {
    if (this.closed) return;
    this.aborted = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.onClosed(this);
  }

  private flush(): Outgoing[] {
    const frames: Outgoing[] = [];
    while (this.queue.length > 0 && this.sendCredit > 0) {
      const head = this.queue[0];
      if (head === undefined) break;
      const take = Math.min(head.length, this.sendCredit);
      for (const payload of split(head.subarray(0, take))) frames.push({ type: FrameType.Data, stream: this.id, payload });
      this.sendCredit -= take;
      this.queuedBytes -= take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    if (this.finQueued && !this.localFin && this.queue.length === 0 && !this.closed) {
      frames.push(finFrame(this.id));
      this.localFin = true;
      // Both ways finished: the stream is over.
      if (this.remoteFin) this.onClosed(this);
    }
    return frames;
  }
}

/** What a frame from the peer means for the streams. */
export type Incoming =
  /** The peer opens `stream` (at the acceptor): connect, then `stream.accept()` or `stream.reset(reason)`. */
  | { readonly kind: 'open'; readonly stream: Stream }
  /** The acceptor connected `stream` (at the opener). */
  | { readonly kind: 'accepted'; readonly stream: Stream }
  /** Bytes for this end's socket: write them, then `stream.written(n)`. */
  | { readonly kind: 'data'; readonly stream: Stream; readonly bytes: Uint8Array }
  /** The peer sent its last byte: end this end's socket's writing side once everything before is written. */
  | { readonly kind: 'fin'; readonly stream: Stream }
  /** The peer aborted (or refused to connect): destroy the socket. */
  | { readonly kind: 'reset'; readonly stream: Stream; readonly reason: string }
  /** More credit: send `frames` (bytes that waited), and resume reading the source if `!stream.paused`. */
  | { readonly kind: 'window'; readonly stream: Stream; readonly frames: Outgoing[] }
  /** A frame for a stream that is already over: nothing to do. */
  | { readonly kind: 'ignored' }
  /** The peer broke the rules for stream `id`: destroy its socket, send `frames` (a Reset). */
  | { readonly kind: 'violation'; readonly id: number; readonly reason: string; readonly frames: Outgoing[] };

/**
 * All the forwarded connections of one session at one end. The opener (client) allocates ids
 * with `open()`; the acceptor (agent) gets them from `receive`.
 */
export class StreamTable {
  private readonly live = new Map<number, Stream>();
  /** The highest id opened so far: ids at or below it that are not live are over. */
  private highest = 0;

  constructor(
    readonly role: 'opener' | 'acceptor',
    private readonly window = STREAM_WINDOW,
  ) {}

  get size(): number {
    return this.live.size;
  }

  get(id: number): Stream | undefined {
    return this.live.get(id);
  }

  streams(): IterableIterator<Stream> {
    return this.live.values();
  }

  /** (Opener) a new stream with the next id, and its Open frame. */
  open(): { stream: Stream; frames: Outgoing[] } {
    if (this.role !== 'opener') throw new StreamError('only the opener opens streams');
    if (this.highest >= MAX_STREAM) throw new StreamError('this session has opened as many streams as it may');
    const stream = this.add(++this.highest);
    return { stream, frames: [openFrame(stream.id)] };
  }

  /** Takes a frame of the peer's on a stream n ≥ 1 (after Link.take said 'new'). */
  receive(frame: Frame): Incoming {
    const id = frame.stream;
    if (id === 0) throw new StreamError('stream 0 is the terminal, not a forwarded connection');
    const stream = this.live.get(id);
    if (frame.type === FrameType.Open && this.role === 'acceptor') {
      if (id <= this.highest || frame.flags !== 0) return this.violation(id, stream, `stream ${id} opened out of order (the last was ${this.highest})`);
      this.highest = id;
      return { kind: 'open', stream: this.add(id) };
    }
    if (stream === undefined) {
      if (id <= this.highest) return { kind: 'ignored' };
      return this.violation(id, undefined, `a frame of type ${frame.type} for stream ${id}, which was never opened`);
    }
    try {
      switch (frame.type) {
        case FrameType.Open:
          if (frame.flags !== FrameFlag.Ok) throw new StreamError(`an Open for stream ${id} that is not an Ok`);
          stream.peerAccepted();
          return { kind: 'accepted', stream };
        case FrameType.Data:
          stream.peerData(frame.payload.length);
          return { kind: 'data', stream, bytes: frame.payload };
        case FrameType.Window:
          return { kind: 'window', stream, frames: stream.peerWindow(readWindow(frame.payload)) };
        case FrameType.Close:
          if ((frame.flags & FrameFlag.Reset) !== 0) {
            stream.peerReset();
            return { kind: 'reset', stream, reason: fromUtf8(frame.payload) || 'reset by the peer' };
          }
          if (frame.flags !== FrameFlag.Fin) throw new StreamError(`a Close for stream ${id} with neither Fin nor Reset`);
          stream.peerFin();
          return { kind: 'fin', stream };
        default:
          throw new StreamError(`a frame of type ${frame.type} has no meaning on stream ${id}`);
      }
    } catch (error) {
      if (!(error instanceof StreamError) && !(error instanceof FrameError)) throw error;
      return this.violation(id, stream, error.message);
    }
  }

  /** Resets every live stream (the session ends); the frames are for a peer that is still there. */
  resetAll(reason: string): Outgoing[] {
    return [...this.live.values()].flatMap((stream) => stream.reset(reason));
  }

  private add(id: number): Stream {
    const stream = new Stream(id, this.role === 'opener', (closed) => this.live.delete(closed.id), this.window);
    this.live.set(id, stream);
    return stream;
  }

  private violation(id: number, stream: Stream | undefined, reason: string): Incoming {
    const frames = stream === undefined ? [resetFrame(id, reason)] : stream.reset(reason);
    return { kind: 'violation', id, reason, frames };
  }
}

/**
 * What a hop writes now: the frames waiting, and an Ack when none of them carries the link's
 * acknowledgement, in messages the other side takes (pack). A lone Ack (nothing else to write)
 * goes only when `ackNow` or the link says it is urgent; otherwise the owner calls again after
 * ACK_DELAY_MS while `link.ackPending` (AckTimer), and a frame sent meanwhile carries it.
 */
export function outgoing(link: Link, waiting: readonly Frame[], ackNow = false): Uint8Array[] {
  const ack = waiting.length > 0 || ackNow || link.ackUrgent ? link.ackIfDue() : undefined;
  return pack(ack === undefined ? waiting : [...waiting, ack]);
}

// Typed without Node's or the DOM's library, as data-channel.ts's TextEncoder; every runtime has them.
declare function setTimeout(callback: () => void, ms: number): unknown;
declare function clearTimeout(timer: unknown): void;

/** The delayed lone Ack of a hop (the one timer in this module): `arm()` after each write; `flush(true)` runs once ACK_DELAY_MS later if an ack is still owed. */
export class AckTimer {
  private timer: unknown;

  constructor(
    private readonly link: Link,
    private readonly flush: (ackNow: true) => void,
    private readonly delayMs = ACK_DELAY_MS,
  ) {}

  arm(): void {
    if (this.timer !== undefined || !this.link.ackPending) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.link.ackPending) this.flush(true);
    }, this.delayMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
