/**
 * The data channel: the binary frames a session's bytes travel in, on each hop
 * (client ⇄ server and server ⇄ agent, one WebSocket each). Drawn as a table in
 * docs/protocol.md; golden vectors in the protocol tests pin the layout.
 *
 * A frame is an 18-byte header and a payload, big-endian:
 *
 *   offset size field
 *   0      1    type     (FrameType)
 *   1      1    flags    (FrameFlag bits)
 *   2      4    stream   0: the terminal or command; 1…: a forwarded TCP connection
 *   6      4    seq      this sender's frame number on this hop, from 1; 0: not sequenced (ACK)
 *   10     4    ack      cumulative: every frame the sender has received up to this seq is
 *                        taken care of (recorded and passed on) and need not be kept
 *   14     4    length   payload bytes
 *   18     …    payload
 *
 * One WebSocket message carries one or more whole frames. Every frame but Auth, Ready and Ack
 * is sequenced;
 * a sender keeps what the peer has not acknowledged and resends it after a reconnect, from
 * the peer's `lastReceived`, so nothing is lost and nothing doubled. Acknowledgement is also
 * the flow control: a sender stops once `window` bytes are unacknowledged, and a receiver
 * acknowledges only what it has passed on, so a slow reader slows the writer. Forwarded
 * connections also have their own credit (WINDOW), so one slow connection stalls only itself.
 *
 * No I/O here: the codec and the sequencing state (Link) are pure, shared by agent, server,
 * CLI and browser.
 */

export const DATA_PATH_CLIENT = '/session/stream';
export const DATA_PATH_AGENT = '/agent/data';
export const DATA_PROTOCOL_VERSION = 1;

export const HEADER_BYTES = 18;
/** The largest payload a frame may carry; senders split bigger writes. */
export const MAX_PAYLOAD = 64 * 1024;
/** Unacknowledged bytes a sender may have in flight on one hop. */
export const DEFAULT_WINDOW = 2 * 1024 * 1024;
/** The credit each forwarded connection starts with, per direction. */
export const STREAM_WINDOW = 1024 * 1024;
/**
 * A lone Ack waits this long for a frame to ride on (a keystroke's echo carries the ack of the
 * keystroke), so small traffic does not cost a message and a wake-up per frame each way.
 */
export const ACK_DELAY_MS = 10;
/** ...unless this many bytes are handed on and unacknowledged: then it goes at once, so the sender's window never waits on the delay. */
export const ACK_AT_BYTES = 64 * 1024;
/** The largest sequence number; a session that would go past it ends (2^32 frames of up to 64 KiB). */
export const MAX_SEQ = 0xffff_ffff;

/**
 * WebSocket masking (RFC 6455 §10.3) keeps a sender's bytes from reading as HTTP to an
 * intermediary that sees them in clear text. Over TLS or on the loopback no intermediary does,
 * so the agent and the CLI send with a zero mask there: `ws` then neither masks (a copy of every
 * byte sent) nor the server unmasks. Browsers always mask; the server takes both.
 */
export function maskingNeeded(url: string): boolean {
  const match = /^(wss?):\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url);
  if (match === null) return true;
  const [, scheme = '', host = ''] = match;
  if (scheme.toLowerCase() === 'wss') return false;
  const name = host.toLowerCase();
  return !(name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name));
}

/** ws's `generateMask` where masking is not needed: a zero mask, which ws then skips. */
export function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}

export const FrameType = {
  /** JSON AuthMessage: the first frame on a hop, from the connecting side. Handshake frames go before the numbering: seq 0. */
  Auth: 0x01,
  /** JSON {lastReceived, …}: the server's answer to Auth; then both sides resend from the other's lastReceived. */
  Ready: 0x02,
  /** Bytes of a stream: input towards the agent, output from it. */
  Data: 0x03,
  /** u16 cols, u16 rows: the terminal's size (client → agent). */
  Resize: 0x04,
  /** A new forwarded connection on `stream` (client → agent); the agent answers Open (flag Ok) or Close (flag Reset, payload the reason). */
  Open: 0x05,
  /** The end of a stream: flag Fin (no more data this way; half-close) or Reset (abort; payload the reason). */
  Close: 0x06,
  /** u32: more credit for `stream` (forwarded connections). */
  Window: 0x07,
  /** i32 exit status, then UTF-8 reason: the session's program ended (agent →). */
  Exit: 0x08,
  /** UTF-8 reason: the server ends the session (terminated, timed out, failed). */
  End: 0x09,
  /** Only `ack` matters: sent when there is nothing else to carry it. */
  Ack: 0x0a,
  /** u8 ModeBit: the terminal's line mode changed (agent →), sent before the output that follows; the server records input typed unseen as withheld. */
  Mode: 0x0b,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FrameFlag = {
  Fin: 0x01,
  Reset: 0x02,
  Ok: 0x04,
} as const;

export interface Frame {
  readonly type: FrameType;
  readonly flags: number;
  readonly stream: number;
  readonly seq: number;
  readonly ack: number;
  readonly payload: Uint8Array;
}

const TYPES = new Set<number>(Object.values(FrameType));
const EMPTY = new Uint8Array(0);

export class FrameError extends Error {}

/** One frame's bytes. */
export function encodeFrame(frame: Frame): Uint8Array {
  return encodeFrames([frame]);
}

/**
 * Memory for a message that is written whole: Node's Buffer.allocUnsafe where there is one (it
 * skips zeroing 256 KiB a message, about 0.1 CPU s per GB on the data path), else zeroed.
 */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafe(size: number): Uint8Array } }).Buffer;
const allocate = (size: number): Uint8Array => {
  if (NodeBuffer === undefined) return new Uint8Array(size);
  const memory = NodeBuffer.allocUnsafe(size);
  // A plain Uint8Array on it, as everywhere else (a Buffer compares and slices differently).
  return new Uint8Array(memory.buffer, memory.byteOffset, size);
};

/** Several frames in one message: one buffer, each payload copied once (this is the data path's hot spot). */
export function encodeFrames(frames: readonly Frame[]): Uint8Array {
  let size = 0;
  for (const frame of frames) {
    if (frame.payload.length > MAX_PAYLOAD) throw new FrameError(`a frame carries at most ${MAX_PAYLOAD} bytes, not ${frame.payload.length}`);
    size += HEADER_BYTES + frame.payload.length;
  }
  // Every byte of it is written below: headers and payloads fill it exactly.
  const bytes = allocate(size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  for (const frame of frames) {
    view.setUint8(offset, frame.type);
    view.setUint8(offset + 1, frame.flags);
    view.setUint32(offset + 2, frame.stream);
    view.setUint32(offset + 6, frame.seq);
    view.setUint32(offset + 10, frame.ack);
    view.setUint32(offset + 14, frame.payload.length);
    bytes.set(frame.payload, offset + HEADER_BYTES);
    offset += HEADER_BYTES + frame.payload.length;
  }
  return bytes;
}

/**
 * Payloads decoded from a message the caller owns (decodeFrames with `owned`): the header in
 * front of each is the frame's as it arrived. A relay sends such a frame on from there (its ack
 * rewritten in place) instead of copying its payload into a new message: see inPlace.
 */
const ownedPayloads = new WeakSet<Uint8Array>();

/**
 * The frame's bytes where it arrived, its ack written into its header, when its payload came from
 * an owned message under this very header (type, flags, stream, seq and length as the frame's);
 * else undefined, and the frame is encoded afresh. This is what lets the server pass a session's
 * output on without copying it (about a third of its CPU per GB relayed, and the memory).
 */
export function inPlace(frame: Frame): Uint8Array | undefined {
  const { payload } = frame;
  if (!ownedPayloads.has(payload)) return undefined;
  const start = payload.byteOffset - HEADER_BYTES;
  const header = new DataView(payload.buffer, start, HEADER_BYTES);
  const same = header.getUint8(0) === frame.type && header.getUint8(1) === frame.flags && header.getUint32(2) === frame.stream && header.getUint32(6) === frame.seq && header.getUint32(14) === payload.length;
  if (!same) return undefined;
  header.setUint32(10, frame.ack);
  return new Uint8Array(payload.buffer, start, HEADER_BYTES + payload.length);
}

/**
 * The frames of one message; a FrameError for anything that is not whole, known frames.
 * `owned`: nothing else reads or keeps these bytes, so frames passed on may be sent from them (inPlace).
 */
export function decodeFrames(bytes: Uint8Array, { owned = false }: { readonly owned?: boolean } = {}): Frame[] {
  const frames: Frame[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_BYTES) throw new FrameError(`a frame header is ${HEADER_BYTES} bytes; the message ends after ${bytes.length - offset}`);
    const type = view.getUint8(offset);
    if (!TYPES.has(type)) throw new FrameError(`unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
    const length = view.getUint32(offset + 14);
    if (length > MAX_PAYLOAD) throw new FrameError(`a frame carries at most ${MAX_PAYLOAD} bytes; this one says ${length}`);
    const end = offset + HEADER_BYTES + length;
    if (end > bytes.length) throw new FrameError(`a frame says ${length} payload bytes; the message holds ${bytes.length - offset - HEADER_BYTES}`);
    const payload = bytes.subarray(offset + HEADER_BYTES, end);
    if (owned) ownedPayloads.add(payload);
    frames.push({
      type: type as FrameType,
      flags: view.getUint8(offset + 1),
      stream: view.getUint32(offset + 2),
      seq: view.getUint32(offset + 6),
      ack: view.getUint32(offset + 10),
      payload,
    });
    offset = end;
  }
  return frames;
}

/* ---------------------------------------------------------------- payloads */

// The protocol is typed without Node's or the DOM's library; every runtime it runs in has these two.
declare class TextEncoder {
  encode(input: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input: Uint8Array): string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

export const utf8 = (text: string): Uint8Array => encoder.encode(text);
export const fromUtf8 = (bytes: Uint8Array): string => decoder.decode(bytes);

export function resizePayload(cols: number, rows: number): Uint8Array {
  const bytes = new Uint8Array(4);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, cols);
  view.setUint16(2, rows);
  return bytes;
}

export function readResize(payload: Uint8Array): { cols: number; rows: number } {
  if (payload.length !== 4) throw new FrameError(`a Resize frame carries 4 bytes, not ${payload.length}`);
  const view = new DataView(payload.buffer, payload.byteOffset, 4);
  const cols = view.getUint16(0);
  const rows = view.getUint16(2);
  if (cols === 0 || rows === 0) throw new FrameError(`a terminal of ${cols}×${rows} has no room`);
  return { cols, rows };
}

export function exitPayload(status: number, reason: string): Uint8Array {
  const text = utf8(reason);
  const bytes = new Uint8Array(4 + text.length);
  new DataView(bytes.buffer).setInt32(0, status);
  bytes.set(text, 4);
  return bytes;
}

export function readExit(payload: Uint8Array): { status: number; reason: string } {
  if (payload.length < 4) throw new FrameError('an Exit frame starts with a 4-byte status');
  return { status: new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0), reason: fromUtf8(payload.subarray(4)) };
}

/** The terminal's line mode, as the program on it set it (termios ECHO and ICANON). */
export interface TerminalMode {
  readonly echo: boolean;
  readonly canonical: boolean;
}

export const ModeBit = { Echo: 0x01, Canonical: 0x02 } as const;

export function modePayload(mode: TerminalMode): Uint8Array {
  return Uint8Array.of((mode.echo ? ModeBit.Echo : 0) | (mode.canonical ? ModeBit.Canonical : 0));
}

export function readMode(payload: Uint8Array): TerminalMode {
  const bits = payload[0];
  if (payload.length !== 1 || bits === undefined) throw new FrameError(`a Mode frame carries 1 byte, not ${payload.length}`);
  return modeOf(bits);
}

/** The mode that ModeBit `bits` say (a Mode frame's byte; the agent's addon reads them so). */
export function modeOf(bits: number): TerminalMode {
  if (!Number.isInteger(bits) || (bits & ~(ModeBit.Echo | ModeBit.Canonical)) !== 0) throw new FrameError(`a terminal mode's byte has unknown bits: 0x${bits.toString(16).padStart(2, '0')}`);
  return { echo: (bits & ModeBit.Echo) !== 0, canonical: (bits & ModeBit.Canonical) !== 0 };
}

/**
 * Input typed in this mode is not shown: a password prompt (sudo, `read -s`, ssh, passwd) turns
 * echo off and keeps reading whole lines. Editors and line editors (readline, vim) turn both
 * off and show what they take themselves, so their input is not hidden.
 */
export const hidesInput = (mode: TerminalMode): boolean => !mode.echo && mode.canonical;

export function windowPayload(credit: number): Uint8Array {
  // Byte by byte: a 4-byte array lives in V8's heap until its .buffer is asked for, which moves it out (slow, on the forwarding path).
  return Uint8Array.of(credit >>> 24, (credit >>> 16) & 0xff, (credit >>> 8) & 0xff, credit & 0xff);
}

export function readWindow(payload: Uint8Array): number {
  if (payload.length !== 4) throw new FrameError(`a Window frame carries 4 bytes, not ${payload.length}`);
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/** What the connecting side says first. */
export type AuthMessage =
  /** A client: the TokenValue of StartSession or ResumeSession. */
  | ({ readonly role: 'client'; readonly token: string } & AuthPosition)
  /** An agent: its signature over agentDataChallenge(sessionId, instanceId, nonce) with its registration key. */
  | ({ readonly role: 'agent'; readonly sessionId: string; readonly instanceId: string; readonly nonce: string; readonly signature: string } & AuthPosition);

/** Where a peer stands in its session, said in its Auth. */
export interface AuthPosition {
  /** The last of the other end's frames this peer has taken. */
  readonly lastReceived: number;
  /**
   * The last of this peer's own frames acknowledged to it (it holds every later one): what a node
   * taking over a session whose node died resumes it from. Absent from peers older than it.
   */
  readonly lastAcknowledged?: number;
  readonly version: number;
}

/** The server's answer: where to resume from, and the session it is. */
export interface ReadyMessage {
  readonly sessionId: string;
  readonly lastReceived: number;
}

/** What an agent signs to open a session's data channel: bound to the session, the instance and the server's nonce. */
export function agentDataChallenge(sessionId: string, instanceId: string, nonce: string): string {
  return `airlock-data-v1\n${sessionId}\n${instanceId}\n${nonce}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown, max: number): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;
const isSeq = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_SEQ;

function json(payload: Uint8Array): unknown {
  try {
    return JSON.parse(fromUtf8(payload)) as unknown;
  } catch {
    return undefined;
  }
}

export function readAuth(payload: Uint8Array): AuthMessage | undefined {
  const value = json(payload);
  if (!isRecord(value) || !isSeq(value['lastReceived']) || typeof value['version'] !== 'number') return undefined;
  const { lastReceived, lastAcknowledged, version } = value;
  if (lastAcknowledged !== undefined && !isSeq(lastAcknowledged)) return undefined;
  const position: AuthPosition = { lastReceived, version, ...(lastAcknowledged === undefined ? {} : { lastAcknowledged }) };
  if (value['role'] === 'client') return isText(value['token'], 512) ? { role: 'client', token: value['token'], ...position } : undefined;
  if (value['role'] !== 'agent') return undefined;
  const { sessionId, instanceId, nonce, signature } = value;
  if (!isText(sessionId, 128) || !isText(instanceId, 64) || !isText(nonce, 256) || !isText(signature, 256)) return undefined;
  return { role: 'agent', sessionId, instanceId, nonce, signature, ...position };
}

export function readReady(payload: Uint8Array): ReadyMessage | undefined {
  const value = json(payload);
  if (!isRecord(value) || !isText(value['sessionId'], 128) || !isSeq(value['lastReceived'])) return undefined;
  return { sessionId: value['sessionId'], lastReceived: value['lastReceived'] };
}

export const jsonPayload = (value: AuthMessage | ReadyMessage): Uint8Array => utf8(JSON.stringify(value));

/* ---------------------------------------------------------------- sequencing */

export interface Outgoing {
  readonly type: FrameType;
  readonly flags?: number;
  readonly stream?: number;
  readonly payload?: Uint8Array;
}

/**
 * One side of one hop: numbers what it sends, keeps it until acknowledged, resends it after a
 * reconnect, and takes each received frame exactly once. It does no I/O: the owner writes the
 * frames it returns and calls `received` with what arrives.
 */
export class Link {
  private nextSeq = 1;
  /** Sent and not yet acknowledged, in order. */
  private readonly unacked: Frame[] = [];
  private unackedBytes = 0;
  /** The last frame taken from the peer, and the last one of those acknowledged back. */
  private lastReceived = 0;
  private lastAckSent = 0;
  /** The last of the peer's frames its owner has handed on (acknowledged on the next frame). */
  private consumed = 0;
  /** Payload bytes taken from the peer in all, at each frame taken and not yet handed on (seq, total). */
  private takenBytes = 0;
  private readonly takenSeqs: number[] = [];
  private readonly takenTotals: number[] = [];
  /** Payload bytes handed on, and of those, acknowledged. */
  private consumedBytes = 0;
  private ackedBytes = 0;

  constructor(readonly window = DEFAULT_WINDOW) {}

  /**
   * A link as it stood before a restart, from a durable record: the peer's frames taken up to
   * `received` (all handed on), the next number to send, and the frames sent that the peer may
   * not have (resent from the peer's lastReceived when it reconnects).
   */
  static restore(state: { readonly window?: number; readonly received: number; readonly nextSeq: number; readonly unacked: readonly Frame[] }): Link {
    const link = new Link(state.window);
    link.lastReceived = state.received;
    link.consumed = state.received;
    link.lastAckSent = state.received;
    link.nextSeq = state.nextSeq;
    for (const frame of state.unacked) {
      link.unacked.push(frame);
      link.unackedBytes += frame.payload.length;
    }
    return link;
  }

  /** Bytes sent and not acknowledged: the owner stops reading its source at `window`. */
  get inFlight(): number {
    return this.unackedBytes;
  }

  get full(): boolean {
    return this.unackedBytes >= this.window;
  }

  get received(): number {
    return this.lastReceived;
  }

  /** The last frame numbered (sent, acknowledged or not). */
  get sent(): number {
    return this.nextSeq - 1;
  }

  /** The last of this side's frames the peer has acknowledged. */
  get delivered(): number {
    return (this.unacked[0]?.seq ?? this.nextSeq) - 1;
  }

  /** A frame to send now, numbered and kept until acknowledged. */
  send(message: Outgoing): Frame {
    if (this.nextSeq > MAX_SEQ) throw new FrameError('this session has sent as many frames as it may');
    const frame: Frame = {
      type: message.type,
      flags: message.flags ?? 0,
      stream: message.stream ?? 0,
      seq: this.nextSeq++,
      ack: this.consumed,
      payload: message.payload ?? EMPTY,
    };
    this.ackSent();
    this.unacked.push(frame);
    this.unackedBytes += frame.payload.length;
    return frame;
  }

  /**
   * Takes a frame from the peer: drops what it acknowledges from the resend list, and says
   * whether the frame is new (to hand on) or a duplicate of one already taken (to ignore).
   * A gap in the numbering is a broken peer: FrameError.
   */
  take(frame: Frame): 'new' | 'duplicate' | 'ack' {
    this.acknowledged(frame.ack);
    if (frame.seq === 0) {
      if (frame.type !== FrameType.Ack) throw new FrameError(`only Ack frames go unnumbered after the handshake; a frame of type ${frame.type} had seq 0`);
      return 'ack';
    }
    if (frame.seq <= this.lastReceived) return 'duplicate';
    if (frame.seq !== this.lastReceived + 1) throw new FrameError(`frame ${frame.seq} arrived after ${this.lastReceived}: frames were lost on the way`);
    this.lastReceived = frame.seq;
    this.takenBytes += frame.payload.length;
    this.takenSeqs.push(frame.seq);
    this.takenTotals.push(this.takenBytes);
    return 'new';
  }

  /** The owner has handed on the peer's frames up to `seq` (recorded, written): they may be acknowledged. */
  consume(seq: number): void {
    if (seq > this.lastReceived) throw new FrameError(`cannot consume frame ${seq}: only ${this.lastReceived} arrived`);
    if (seq <= this.consumed) return;
    this.consumed = seq;
    while ((this.takenSeqs[0] ?? Infinity) <= seq) {
      this.takenSeqs.shift();
      this.consumedBytes = this.takenTotals.shift() ?? this.consumedBytes;
    }
  }

  /** Something handed on is not acknowledged yet. */
  get ackPending(): boolean {
    return this.consumed !== this.lastAckSent;
  }

  /** So much is handed on and unacknowledged that the Ack should not wait (ACK_AT_BYTES). */
  get ackUrgent(): boolean {
    return this.consumedBytes - this.ackedBytes >= ACK_AT_BYTES;
  }

  /** An Ack frame when something consumed has not been acknowledged yet (and nothing else is going out to carry it). */
  ackIfDue(): Frame | undefined {
    if (this.consumed === this.lastAckSent) return undefined;
    this.ackSent();
    return { type: FrameType.Ack, flags: 0, stream: 0, seq: 0, ack: this.consumed, payload: EMPTY };
  }

  /** After a reconnect: the peer has taken frames up to `peerReceived`; these are to send again (with a fresh ack). */
  resendAfter(peerReceived: number): Frame[] {
    this.acknowledged(peerReceived);
    this.ackSent();
    return this.unacked.map((frame) => ({ ...frame, ack: this.consumed }));
  }

  /** What the peer must resume from: the last frame taken from it. */
  get consumedSeq(): number {
    return this.consumed;
  }

  private ackSent(): void {
    this.lastAckSent = this.consumed;
    this.ackedBytes = this.consumedBytes;
  }

  private acknowledged(ack: number): void {
    if (ack >= this.nextSeq) throw new FrameError(`the peer acknowledged frame ${ack}, which was never sent (last sent ${this.nextSeq - 1})`);
    while (this.unacked.length > 0 && (this.unacked[0]?.seq ?? Infinity) <= ack) {
      const frame = this.unacked.shift();
      if (frame !== undefined) this.unackedBytes -= frame.payload.length;
    }
  }
}
