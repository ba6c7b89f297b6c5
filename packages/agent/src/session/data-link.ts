/**
 * The agent's hop of a session's data channel: one WebSocket to `{endpoint}/agent/data` (the
 * registered endpoint, the pinned CA, as the control channel), the frames of
 * @airlock/protocol's data-channel.ts numbered by a Link.
 *
 *   agent → server  Auth (seq 0) {role: 'agent', sessionId, instanceId, nonce, signature,
 *                   lastReceived, lastAcknowledged, version}: signature = base64 Ed25519 over
 *                   agentDataChallenge(sessionId, instanceId, nonce) with the instance key
 *   server → agent  Ready {sessionId, lastReceived}; then both resend what the other has not taken
 *
 * A drop (network, server restart) is followed by a new dial with backoff and the same
 * signature; the Link resends what the server had not taken and drops what it takes twice, so
 * nothing is lost or doubled. Close codes 4400, 4401, 4404, 4409 and a normal close say the
 * session is over (or not for this agent): no redial. Nor after `resumeTimeoutMs` away.
 *
 * Flow control: frames wait here, unnumbered, while the Link has a window's worth unacknowledged
 * (`congested`; the owner pauses its sources and resumes them at `onDrain`). The owner calls
 * `consume` once it has handed the server's frames on (written them to the PTY or a socket): only
 * then are they acknowledged, so a program that stops reading stops the sender.
 */
import type { KeyObject } from 'node:crypto';
import { data, streams } from '@airlock/protocol';
import { WebSocket, type RawData } from 'ws';
import { Backoff } from '../backoff.js';
import { dataUrl } from '../endpoint.js';
import { signDataChallenge } from '../keys.js';
import { messageOf, type Logger } from '../log.js';
import { describeNetworkError, tlsOptions } from '../tls.js';

/** Close codes after which the session cannot go on here (the server's DataCloseCode). */
const FINAL_CLOSE = new Map<number, string>([
  [1000, 'the server closed the data channel'],
  [4400, 'the server found a frame of this agent malformed'],
  [4401, "the server refused this agent's signature for the session"],
  [4404, 'the session is not open on the server'],
  [4409, 'another connection took over the session'],
]);

/** The largest message the server may send in one go (it batches a window's worth, and a resend after a reconnect). */
const MAX_INCOMING_MESSAGE = 64 * 1024 * 1024;

export interface DataLinkOptions {
  readonly endpointUrl: string;
  readonly instanceId: string;
  readonly privateKey: KeyObject;
  readonly caPem?: string | undefined;
  readonly sessionId: string;
  readonly nonce: string;
  readonly agentVersion: string;
  readonly log: Logger;
  readonly window?: number;
  /** Redial delays: full jitter within min(cap, base·2^attempt); default 100 ms to 5 s. */
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  readonly random?: () => number;
  /** From dialing to Ready; default 10 s. */
  readonly readyTimeoutMs?: number;
  /** How long to keep redialing after a drop; default 3 minutes (the server gives up on an agent after 1). */
  readonly resumeTimeoutMs?: number;
  /** WebSocket pings; a connection that answers none of two is dropped (and redialed). Default 15 s. */
  readonly pingIntervalMs?: number;
}

export interface DataLinkEvents {
  /** New frames from the server, in order (duplicates and Acks already taken out). */
  readonly onFrames: (frames: data.Frame[]) => void;
  /** The window has room again: resume the sources. */
  readonly onDrain: () => void;
  /** The channel cannot go on: the session is over here. */
  readonly onGone: (reason: string) => void;
  /** Each Ready (the first, and each resume). */
  readonly onReady?: (resumed: boolean) => void;
}

type Phase = 'idle' | 'connecting' | 'auth' | 'ready' | 'closed';

export class DataLink {
  readonly link: data.Link;
  readonly #options: DataLinkOptions;
  readonly #events: DataLinkEvents;
  #url: string;
  readonly #backoff: Backoff;
  #phase: Phase = 'idle';
  #socket: WebSocket | undefined;
  /** Frames numbered and to be written on the current socket. */
  #outbox: data.Frame[] = [];
  /** Frames waiting for room in the window, not numbered yet. */
  readonly #pending: data.Outgoing[] = [];
  #blocked = false;
  #flushQueued = false;
  readonly #ackTimer: streams.AckTimer;
  #awaySince: number | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #readyTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #alive = true;
  #error: Error | undefined;
  #readies = 0;
  #nonce: string;
  /** Dials made, for tests and diagnostics. */
  dials = 0;

  constructor(options: DataLinkOptions, events: DataLinkEvents) {
    this.#options = options;
    this.#events = events;
    this.#nonce = options.nonce;
    this.link = new data.Link(options.window ?? data.DEFAULT_WINDOW);
    this.#ackTimer = new streams.AckTimer(this.link, (ackNow) => {
      this.#flush(ackNow);
    });
    this.#url = dataUrl(options.endpointUrl);
    this.#backoff = new Backoff({
      baseMs: options.backoffBaseMs ?? 100,
      capMs: options.backoffCapMs ?? 5_000,
      ...(options.random === undefined ? {} : { random: options.random }),
    });
  }

  /** Dials (once; later dials are the link's own business). */
  start(): void {
    if (this.#phase !== 'idle') return;
    this.#dial();
  }

  get ready(): boolean {
    return this.#phase === 'ready';
  }

  get closed(): boolean {
    return this.#phase === 'closed';
  }

  /** Frames wait for the window: sources should stop reading. */
  get congested(): boolean {
    return this.#pending.length > 0 || this.link.full;
  }

  /** Sends a frame, in order after everything sent before it (kept until acknowledged). */
  send(message: data.Outgoing): void {
    if (this.#phase === 'closed') return;
    this.#pending.push(message);
    this.#pump();
  }

  sendAll(messages: readonly data.Outgoing[]): void {
    for (const message of messages) this.send(message);
  }

  /** The server's frames up to `seq` (default: all taken) are handed on: acknowledge them. */
  consume(seq: number = this.link.received): void {
    if (this.#phase === 'closed') return;
    this.link.consume(seq);
    this.#scheduleFlush();
  }

  /** Closes for good: writes what is waiting, then a normal close. */
  close(reason = 'the session ended'): void {
    if (this.#phase === 'closed') return;
    this.#flush(true);
    this.#phase = 'closed';
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket?.readyState === WebSocket.OPEN) socket.close(1000, reason.slice(0, 120));
    else socket?.terminate();
  }

  /**
   * The server says the session is open (again: a session-open for a session this agent runs,
   * as after a server restart, or from another node): sign with its nonce from now on, dial
   * `endpointUrl` when given (the node now carrying it), and if the channel is down, dial now
   * rather than at the end of the backoff.
   */
  reopen(nonce: string, endpointUrl?: string): void {
    if (this.#phase === 'closed') return;
    this.#nonce = nonce;
    const moved = endpointUrl !== undefined && dataUrl(endpointUrl) !== this.#url;
    if (endpointUrl !== undefined) this.#url = dataUrl(endpointUrl);
    // Another node carries the session now (its node was taken for dead): a channel still open to
    // the old one leads nowhere, so it is dropped and the new node dialled.
    if (moved && this.#socket !== undefined) {
      this.#socket.terminate();
      return;
    }
    if (this.#phase !== 'idle' || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#backoff.reset();
    this.#dial();
  }

  /** Drops the connection as a network would (tests). */
  drop(): void {
    this.#socket?.terminate();
  }

  // Connecting -------------------------------------------------------------------------------

  #dial(): void {
    this.#retryTimer = undefined;
    if (this.#phase === 'closed') return;
    this.#phase = 'connecting';
    this.#error = undefined;
    this.dials++;
    const timeoutMs = this.#options.readyTimeoutMs ?? 10_000;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#url, {
        ...tlsOptions(this.#options.caPem),
        handshakeTimeout: timeoutMs,
        maxPayload: MAX_INCOMING_MESSAGE,
        followRedirects: false,
        perMessageDeflate: false,
        headers: { 'user-agent': `airlock-agent/${this.#options.agentVersion}` },
        // No mask where no intermediary reads the bytes: ws then copies nothing it sends.
        ...(data.maskingNeeded(this.#url) ? {} : { generateMask: data.zeroMask }),
      });
    } catch (error) {
      this.#options.log.error(`Session ${this.#options.sessionId}: cannot open ${this.#url}: ${messageOf(error)}`);
      this.#lost();
      return;
    }
    // ws sets TCP_NODELAY on the socket itself (a keystroke goes out at once).
    this.#socket = socket;
    this.#readyTimer = setTimeout(() => {
      // Authenticated and held without Ready: the server is there and waits for the session's
      // other end (a revived or moved session resumes from both). Not time away from the server;
      // the server ends the session itself if that end never comes.
      if (this.#phase === 'auth') this.#awaySince = undefined;
      this.#options.log.warn(`Session ${this.#options.sessionId}: no Ready from the server within ${timeoutMs / 1000} s; dialing again.`);
      socket.terminate();
    }, timeoutMs);
    socket.binaryType = 'nodebuffer';
    socket.on('open', () => {
      if (socket !== this.#socket) return;
      this.#phase = 'auth';
      const { sessionId, instanceId, privateKey } = this.#options;
      const nonce = this.#nonce;
      const auth: data.AuthMessage = {
        role: 'agent',
        sessionId,
        instanceId,
        nonce,
        signature: signDataChallenge(privateKey, sessionId, instanceId, nonce),
        lastReceived: this.link.received,
        lastAcknowledged: this.link.delivered,
        version: data.DATA_PROTOCOL_VERSION,
      };
      socket.send(data.encodeFrame({ type: data.FrameType.Auth, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(auth) }));
    });
    socket.on('message', (message: RawData, isBinary: boolean) => {
      if (socket !== this.#socket) return;
      this.#alive = true;
      this.#onMessage(socket, message, isBinary);
    });
    socket.on('pong', () => {
      this.#alive = true;
    });
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', (code: number, reason: Buffer) => {
      if (socket !== this.#socket) return;
      this.#onClose(code, reason.toString('utf8'));
    });
  }

  #onMessage(socket: WebSocket, message: RawData, isBinary: boolean): void {
    if (!isBinary) {
      this.#protocolError(socket, 'a text message');
      return;
    }
    let frames: data.Frame[];
    try {
      frames = data.decodeFrames(bytesOf(message));
    } catch (error) {
      this.#protocolError(socket, messageOf(error));
      return;
    }
    let index = 0;
    if (this.#phase === 'auth') {
      const first = frames[0];
      const ready = first?.type === data.FrameType.Ready ? data.readReady(first.payload) : undefined;
      if (ready?.sessionId !== this.#options.sessionId) {
        this.#protocolError(socket, 'a first message that is not its Ready');
        return;
      }
      let resend: data.Frame[];
      try {
        resend = this.link.resendAfter(ready.lastReceived);
      } catch (error) {
        this.#gone(`the server's Ready does not match this session (${messageOf(error)})`);
        return;
      }
      clearTimeout(this.#readyTimer);
      this.#readyTimer = undefined;
      const resumed = this.#readies++ > 0;
      if (resumed) this.#options.log.info(`Session ${this.#options.sessionId}: data channel resumed (${resend.length} frames sent again).`);
      this.#phase = 'ready';
      this.#awaySince = undefined;
      this.#backoff.reset();
      this.#outbox = resend;
      this.#startPings(socket);
      this.#events.onReady?.(resumed);
      this.#pump();
      this.#flush();
      index = 1;
    } else if (this.#phase !== 'ready') {
      return;
    }
    const fresh: data.Frame[] = [];
    try {
      for (; index < frames.length; index++) {
        const frame = frames[index];
        if (frame === undefined) continue;
        if (frame.type === data.FrameType.Auth || frame.type === data.FrameType.Ready) throw new data.FrameError('a second handshake frame');
        if (this.link.take(frame) === 'new') fresh.push(frame);
      }
    } catch (error) {
      // Keep what was taken before the broken frame: it is the peer's, in order.
      if (fresh.length > 0) this.#events.onFrames(fresh);
      this.#protocolError(socket, messageOf(error));
      return;
    }
    // Acknowledgements may have made room in the window.
    this.#pump();
    if (fresh.length > 0) this.#events.onFrames(fresh);
  }

  #onClose(code: number, reason: string): void {
    const wasReady = this.#phase === 'ready';
    this.#socket = undefined;
    this.#outbox = [];
    this.#clearTimers();
    if (this.#phase === 'closed') return;
    const final = FINAL_CLOSE.get(code);
    if (final !== undefined) {
      this.#gone(reason === '' ? `${final} (${code})` : `${final}: ${reason} (${code})`);
      return;
    }
    const said = this.#error === undefined ? `close ${code}${reason === '' ? '' : `: ${reason}`}` : describeNetworkError(this.#error, this.#options.caPem !== undefined);
    this.#options.log.warn(`Session ${this.#options.sessionId}: ${wasReady ? 'lost the data channel' : `cannot connect to ${this.#url}`} (${said}).`);
    this.#lost();
  }

  /** Not connected: redial after a backoff, unless away too long. */
  #lost(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'idle';
    const now = Date.now();
    this.#awaySince ??= now;
    const limit = this.#options.resumeTimeoutMs ?? 180_000;
    if (now - this.#awaySince >= limit) {
      this.#gone(`the data channel could not be reopened within ${Math.round(limit / 1000)} s`);
      return;
    }
    const delay = Math.min(this.#backoff.next(), Math.max(0, this.#awaySince + limit - now));
    this.#retryTimer = setTimeout(() => {
      this.#dial();
    }, delay);
  }

  #gone(reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.terminate();
    this.#events.onGone(reason);
  }

  #protocolError(socket: WebSocket, what: string): void {
    this.#options.log.warn(`Session ${this.#options.sessionId}: the server sent ${what}; dialing again.`);
    socket.close(4400, 'malformed frame');
    // Its close handshake may not come: the connection is dropped either way.
    setTimeout(() => {
      socket.terminate();
    }, 1_000).unref();
  }

  #startPings(socket: WebSocket): void {
    this.#alive = true;
    this.#pingTimer = setInterval(() => {
      if (!this.#alive) {
        this.#options.log.warn(`Session ${this.#options.sessionId}: the data channel answers no pings; dropping it.`);
        socket.terminate();
        return;
      }
      this.#alive = false;
      socket.ping();
    }, this.#options.pingIntervalMs ?? 15_000);
  }

  #clearTimers(): void {
    this.#ackTimer.cancel();
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#readyTimer);
    clearInterval(this.#pingTimer);
    this.#retryTimer = undefined;
    this.#readyTimer = undefined;
    this.#pingTimer = undefined;
  }

  // Sending ----------------------------------------------------------------------------------

  /** Numbers waiting frames while the window has room; tells the owner when it has room again. */
  #pump(): void {
    while (this.#pending.length > 0 && !this.link.full) {
      const message = this.#pending.shift();
      if (message === undefined) break;
      const frame = this.link.send(message);
      if (this.#phase === 'ready') this.#outbox.push(frame);
    }
    this.#scheduleFlush();
    const blocked = this.congested;
    if (this.#blocked && !blocked) {
      this.#blocked = false;
      this.#events.onDrain();
      return;
    }
    this.#blocked = blocked;
  }

  /** Writes at the end of this turn of the event loop, so output read in the same poll shares messages (see the broker's scheduleFlush). */
  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Writes the outbox, with an Ack when nothing in it carries the acknowledgement (a lone one only when `ackNow` or urgent; else after a delay). */
  #flush(ackNow = false): void {
    const socket = this.#socket;
    if (this.#phase !== 'ready' || socket?.readyState !== WebSocket.OPEN) return;
    const waiting = this.#outbox;
    this.#outbox = [];
    for (const message of streams.outgoing(this.link, waiting, ackNow)) socket.send(message);
    this.#ackTimer.arm();
  }
}

function bytesOf(message: RawData): Uint8Array {
  if (Array.isArray(message)) return Buffer.concat(message);
  return message instanceof ArrayBuffer ? new Uint8Array(message) : message;
}
