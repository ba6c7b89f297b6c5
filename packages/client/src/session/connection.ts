/**
 * A session's data channel at the client, for every mode: dials the StreamUrl, presents the
 * token in an Auth frame, waits for Ready, then carries frames through a Link (numbering,
 * acknowledgement, resend). A connection that drops is resumed: ssm:ResumeSession for a new
 * token and StreamUrl (backoff 100–200 ms, ×2, at most 5 s, a bounded number of attempts), that
 * StreamUrl dialled (another node's, once the session moved there), Auth with the last frame
 * taken, and everything the server had not taken sent again; nothing is lost and nothing doubled.
 *
 * Flow control: `send` returns false once the Link's window is full (stop reading the source
 * until `onWritable`); frames are acknowledged only when the mode says it handed them on (the
 * `done` of each delivery), in order.
 *
 * Runs in browsers and Node alike: the WebSocket comes from a Dialer (browser-socket.ts, or the
 * CLI's over `ws`).
 */
import { data, streams } from '@airlock/protocol';
import { backoffDelays, type RetryPolicy, DEFAULT_RETRY } from './backoff.js';
import type { Dialer, SessionSocket, SocketEvents } from './socket.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Where writes wait: the end of the event loop's turn in Node (setImmediate), so what the sources
 * read in one poll shares messages (port forwarding makes fewer, bigger writes); browsers have no
 * such turn without a clamped timer, so a microtask there.
 */
const nextTurn: (run: () => void) => unknown = (globalThis as { setImmediate?: (run: () => void) => unknown }).setImmediate ?? queueMicrotask;

/** The server's close codes that no retry can mend. */
const FINAL_CLOSE: Readonly<Record<number, string>> = {
  4400: 'the server could not read what this client sent',
  4404: 'the session is not open any more',
  4409: 'another client took over the session',
};

/** ssm:ResumeSession refused for good (the session ended, access denied): no more attempts. */
export class ResumeRefused extends Error {
  override readonly name = 'ResumeRefused';
}

/** Where and with what to dial the session: ssm:ResumeSession's TokenValue and StreamUrl. */
export interface StreamGrant {
  readonly token: string;
  /** The node carrying the session now: another than before once the session moved. */
  readonly streamUrl: string;
}

export interface ConnectionOptions {
  readonly dial: Dialer;
  /** The StreamUrl of StartSession: the first dial's. */
  readonly streamUrl: string;
  /** The TokenValue of StartSession. */
  readonly token: string;
  /** A new grant for the same session (ssm:ResumeSession); ResumeRefused when there is none to have. */
  readonly resume: () => Promise<StreamGrant>;
  readonly retry?: Partial<RetryPolicy>;
  /** How long the dial and the server's Ready may take. */
  readonly readyTimeoutMs?: number;
  readonly window?: number;
}

export type ConnectionNotice = { readonly kind: 'reconnecting'; readonly reason: string } | { readonly kind: 'resumed' };

class DialError extends Error {
  constructor(
    message: string,
    readonly final = false,
  ) {
    super(message);
  }
}

interface Delivery {
  readonly seq: number;
  done: boolean;
}

export class SessionConnection {
  readonly link: data.Link;
  /** The window has room again after `send` returned false. */
  onWritable: () => void = () => undefined;
  onNotice: (notice: ConnectionNotice) => void = () => undefined;
  /** Resolves with the reason when the connection is gone for good (not after `close`). */
  readonly lost: Promise<string>;

  private socket: SessionSocket | undefined;
  private ready = false;
  private closing = false;
  private blocked = false;
  /** StartSession's grant until the first dial; after that each attempt asks ResumeSession. */
  private firstGrant: StreamGrant | undefined;
  private readonly backlog: data.Outgoing[] = [];
  private outbox: data.Frame[] = [];
  private flushQueued = false;
  private readonly ackTimer: streams.AckTimer;
  private readonly deliveries: Delivery[] = [];
  /** Frames that came before the mode took over (with Ready, or right after): handed to it then. */
  private readonly early: data.Frame[] = [];
  private handler: ((frame: data.Frame, done: () => void) => void) | undefined;
  private readonly retry: RetryPolicy;
  private markLost: (reason: string) => void = () => undefined;

  constructor(private readonly options: ConnectionOptions) {
    this.link = new data.Link(options.window);
    this.ackTimer = new streams.AckTimer(this.link, (ackNow) => {
      this.flush(ackNow);
    });
    this.firstGrant = { token: options.token, streamUrl: options.streamUrl };
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.lost = new Promise((resolve) => (this.markLost = resolve));
  }

  /** Dials and waits for Ready, retrying as a resume would; rejects with the reason when it cannot. */
  async open(): Promise<void> {
    const failure = await this.connect();
    if (failure !== undefined) throw new Error(failure);
  }

  /** Each new frame from the server but Ready and Ack, in order (those that came before, at once); call `done` once it is handed on. */
  set onFrame(handler: (frame: data.Frame, done: () => void) => void) {
    this.handler = handler;
    for (const frame of this.early.splice(0)) this.deliver(frame);
  }

  /** True while the window has room: the source may go on. */
  get writable(): boolean {
    return this.backlog.length === 0 && !this.link.full;
  }

  /** Sends a frame now, or once the window has room; false: stop reading the source until onWritable. */
  send(message: data.Outgoing): boolean {
    if (this.closing) return false;
    if (this.backlog.length > 0 || this.link.full) this.backlog.push(message);
    else this.write(this.link.send(message));
    if (this.writable) return true;
    this.blocked = true;
    return false;
  }

  /** Ends this client's part: no resume, the socket closed. The session itself goes on unless terminated. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.flush(true);
    this.ackTimer.cancel();
    const socket = this.socket;
    this.socket = undefined;
    if (socket?.isOpen === true) socket.close(1000, 'the client closed');
    else socket?.terminate();
  }

  /* ------------------------------------------------------------ dialling */

  /** Tries until Ready or the attempts run out; the reason when they did. */
  private async connect(firstReason?: string): Promise<string | undefined> {
    let reason = firstReason ?? '';
    let attempt = 0;
    for (const delay of backoffDelays(this.retry)) {
      if (attempt++ > 0 || firstReason !== undefined) await sleep(delay);
      if (this.closing) return undefined;
      try {
        // A new grant even when the last token was never presented: the URL that just failed may
        // be a dead node's, and ResumeSession answers the live one's once the session moved.
        const grant = this.firstGrant ?? (await this.options.resume());
        this.firstGrant = undefined;
        await this.dial(grant);
        return undefined;
      } catch (error) {
        if (error instanceof ResumeRefused || (error instanceof DialError && error.final)) return error.message;
        reason = error instanceof Error ? error.message : String(error);
      }
    }
    return `could not reach the session after ${this.retry.attempts} attempts: ${reason}`;
  }

  /** One dial: resolves at Ready; the socket then belongs to the connection. */
  private dial({ token, streamUrl }: StreamGrant): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let socket: SessionSocket | undefined;
      const fail = (message: string, final = false): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket?.terminate();
        reject(new DialError(message, final));
      };
      const timer = setTimeout(() => {
        fail(`no answer from ${streamUrl} within ${this.readyTimeoutMs} ms`);
      }, this.readyTimeoutMs);
      const events: SocketEvents = {
          onOpen: () => {
            const auth: data.AuthMessage = { role: 'client', token, lastReceived: this.link.received, lastAcknowledged: this.link.delivered, version: data.DATA_PROTOCOL_VERSION };
            socket?.send(data.encodeFrame({ type: data.FrameType.Auth, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(auth) }));
          },
          onMessage: (bytes) => {
            if (!settled) {
              // The first message starts with Ready; frames the server resends may follow it.
              const frames = this.decode(bytes);
              const first = frames?.[0];
              const ready = first?.type === data.FrameType.Ready ? data.readReady(first.payload) : undefined;
              if (frames === undefined || ready === undefined) {
                fail('the server did not answer with Ready', true);
                return;
              }
              if (socket === undefined) return;
              settled = true;
              clearTimeout(timer);
              this.attach(socket, ready);
              resolve();
              this.receive(frames.slice(1));
              return;
            }
            if (socket !== this.socket) return;
            const frames = this.decode(bytes);
            if (frames !== undefined) this.receive(frames);
          },
          onClose: (code, text) => {
            if (!settled) {
              fail(FINAL_CLOSE[code] === undefined ? `the server closed the connection (${code}${text === '' ? '' : `: ${text}`})` : `${FINAL_CLOSE[code]}: ${text}`, FINAL_CLOSE[code] !== undefined);
              return;
            }
            if (socket === this.socket) this.dropped(code, text);
          },
          onError: (message) => {
            // A close follows once the socket was open; before that, this is the dial's failure.
            if (!settled && socket?.isOpen !== true) fail(`cannot connect to ${streamUrl}: ${message}`);
          },
      };
      try {
        socket = this.options.dial(streamUrl, events, { handshakeTimeoutMs: this.readyTimeoutMs });
      } catch (error) {
        fail(`cannot dial ${streamUrl}: ${error instanceof Error ? error.message : String(error)}`, true);
      }
    });
  }

  private get readyTimeoutMs(): number {
    return this.options.readyTimeoutMs ?? 10_000;
  }

  /** Ready: the socket is this connection's; resend what the server has not taken. */
  private attach(socket: SessionSocket, ready: data.ReadyMessage): void {
    this.socket = socket;
    this.ready = true;
    this.outbox = this.link.resendAfter(ready.lastReceived);
    this.flush();
    this.drainBacklog();
  }

  /** The socket went away without our asking: resume, unless the session is over or the code says never. */
  private dropped(code: number, reason: string): void {
    this.socket = undefined;
    this.ready = false;
    this.outbox = [];
    this.ackTimer.cancel();
    if (this.closing) return;
    const final = FINAL_CLOSE[code];
    if (final !== undefined) {
      this.markLost(`${final}${reason === '' ? '' : `: ${reason}`}`);
      return;
    }
    const why = reason === '' ? `connection closed (${code})` : reason;
    this.onNotice({ kind: 'reconnecting', reason: why });
    void this.connect(why).then((failure) => {
      if (failure !== undefined) this.markLost(failure);
      else if (!this.closing) this.onNotice({ kind: 'resumed' });
    });
  }

  /* ------------------------------------------------------------ receiving */

  private decode(bytes: Uint8Array): data.Frame[] | undefined {
    try {
      return data.decodeFrames(bytes);
    } catch (error) {
      this.broken(error);
      return undefined;
    }
  }

  private receive(frames: readonly data.Frame[]): void {
    for (const frame of frames) {
      if (this.closing) return;
      let verdict: 'new' | 'duplicate' | 'ack';
      try {
        verdict = this.link.take(frame);
      } catch (error) {
        this.broken(error);
        return;
      }
      if (verdict !== 'new') continue;
      if (this.handler === undefined || this.early.length > 0) this.early.push(frame);
      else this.deliver(frame);
    }
    this.drainBacklog();
  }

  private deliver(frame: data.Frame): void {
    const delivery: Delivery = { seq: frame.seq, done: false };
    this.deliveries.push(delivery);
    this.handler?.(frame, () => {
      delivery.done = true;
      this.settle();
    });
  }

  /** Acknowledges the deliveries handed on, up to the first that is not. */
  private settle(): void {
    let last: number | undefined;
    while (this.deliveries[0]?.done === true) last = this.deliveries.shift()?.seq;
    if (last === undefined) return;
    this.link.consume(last);
    this.scheduleFlush();
  }

  /** A server that breaks the protocol: the session cannot go on. */
  private broken(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.close();
    this.markLost(`the data channel broke: ${message}`);
  }

  /* ------------------------------------------------------------ sending */

  private write(frame: data.Frame): void {
    if (!this.ready) return; // kept in the Link; resent after Ready
    this.outbox.push(frame);
    this.scheduleFlush();
  }

  private drainBacklog(): void {
    while (this.backlog.length > 0 && !this.link.full) {
      const message = this.backlog.shift();
      if (message !== undefined) this.write(this.link.send(message));
    }
    if (this.blocked && this.writable) {
      this.blocked = false;
      this.onWritable();
    }
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    nextTurn(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Writes the waiting frames, in messages the server accepts (pack), with an Ack when nothing carries it (a lone one only when `ackNow` or urgent; else after a delay). */
  private flush(ackNow = false): void {
    const socket = this.socket;
    if (!this.ready || socket?.isOpen !== true) return;
    const waiting = this.outbox;
    this.outbox = [];
    for (const message of streams.outgoing(this.link, waiting, ackNow)) socket.send(message);
    this.ackTimer.arm();
  }
}
