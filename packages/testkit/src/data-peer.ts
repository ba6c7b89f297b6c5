/**
 * A data-channel peer for tests: a real WebSocket speaking the data-channel frames with a Link,
 * as a client (token) or an agent (signature) would. It records what arrives, acknowledges on
 * demand or at once, and can drop and resume. The real agent and CLI have their own; this one
 * lets the broker's tests say exactly when each side reads.
 */
import { sign, type KeyObject } from 'node:crypto';
import { data, streams } from '@airlock/protocol';
import WebSocket from 'ws';
import { whenTrue, within } from './wait.js';

export interface PeerOptions {
  /** Acknowledge frames as they arrive (default), or only when consume() is called. */
  readonly autoAck?: boolean;
  readonly window?: number;
  /** False: Auth without `lastAcknowledged`, as a peer older than it sends (default true). */
  readonly saysAcknowledged?: boolean;
}

export type Credentials =
  | { readonly role: 'client'; readonly token: string }
  | { readonly role: 'agent'; readonly sessionId: string; readonly instanceId: string; readonly nonce: string; readonly privateKey: KeyObject };

export class DataPeer {
  readonly link: data.Link;
  /** Every new frame taken, in order. */
  readonly frames: data.Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private socket: WebSocket | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly autoAck: boolean;
  private readonly saysAcknowledged: boolean;

  constructor(options: PeerOptions = {}) {
    this.link = new data.Link(options.window);
    this.autoAck = options.autoAck ?? true;
    this.saysAcknowledged = options.saysAcknowledged ?? true;
  }

  /** Dials `url`, authenticates, and resends what the server has not taken. Resolves at Ready. */
  async connect(url: string, credentials: Credentials): Promise<data.ReadyMessage> {
    const socket = new WebSocket(url);
    this.socket = socket;
    this.closed = undefined;
    let ready: ((message: data.ReadyMessage) => void) | undefined;
    const readied = new Promise<data.ReadyMessage>((resolve) => (ready = resolve));
    socket.on('message', (message: Buffer) => {
      for (const frame of data.decodeFrames(new Uint8Array(message))) {
        if (frame.type === data.FrameType.Ready) {
          const parsed = data.readReady(frame.payload);
          if (parsed === undefined) throw new Error('a Ready frame that is not one');
          // In messages the server takes: a resend can be a whole window.
          for (const resent of streams.pack(this.link.resendAfter(parsed.lastReceived))) socket.send(resent);
          ready?.(parsed);
          continue;
        }
        if (this.link.take(frame) !== 'new') continue;
        this.frames.push(frame);
        if (this.autoAck) this.consume();
      }
      this.wake();
    });
    socket.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.wake();
    });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => {
        resolve();
      });
      socket.once('error', reject);
    });
    const position = { lastReceived: this.link.received, ...(this.saysAcknowledged ? { lastAcknowledged: this.link.delivered } : {}), version: data.DATA_PROTOCOL_VERSION };
    const auth: data.AuthMessage =
      credentials.role === 'client'
        ? { role: 'client', token: credentials.token, ...position }
        : {
            role: 'agent',
            sessionId: credentials.sessionId,
            instanceId: credentials.instanceId,
            nonce: credentials.nonce,
            signature: sign(null, Buffer.from(data.agentDataChallenge(credentials.sessionId, credentials.instanceId, credentials.nonce)), credentials.privateKey).toString('base64'),
            ...position,
          };
    socket.send(data.encodeFrame({ type: data.FrameType.Auth, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(auth) }));
    const refused = new Promise<never>((_resolve, reject) => {
      socket.once('close', (code: number, reason: Buffer) => {
        reject(new Error(`closed before Ready: ${code} ${reason.toString('utf8')}`));
      });
    });
    refused.catch(() => undefined);
    return within(Promise.race([readied, refused]), 'Ready');
  }

  /** Counts the Data bytes taken on `stream` so far, each frame once as it arrives (not summed anew at each call). */
  byteCounter(stream = 0): () => number {
    let seen = 0;
    let bytes = 0;
    return () => {
      for (; seen < this.frames.length; seen++) {
        const frame = this.frames[seen];
        if (frame?.type === data.FrameType.Data && frame.stream === stream) bytes += frame.payload.length;
      }
      return bytes;
    };
  }

  /** Sends a frame (kept until acknowledged, resent after a reconnect). */
  send(message: data.Outgoing): void {
    const frame = this.link.send(message);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(frame));
  }

  sendText(text: string, stream = 0): void {
    this.send({ type: data.FrameType.Data, stream, payload: data.utf8(text) });
  }

  /** Acknowledges everything taken so far. */
  consume(): void {
    this.link.consume(this.link.received);
    const ack = this.link.ackIfDue();
    if (ack !== undefined && this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(ack));
  }

  /** The Data payloads of `stream` so far, as text. */
  text(stream = 0): string {
    return this.frames
      .filter((frame) => frame.type === data.FrameType.Data && frame.stream === stream)
      .map((frame) => data.fromUtf8(frame.payload))
      .join('');
  }

  /** Drops the connection without a goodbye, as a network would. */
  drop(): void {
    this.socket?.terminate();
  }

  close(): void {
    this.socket?.close();
  }

  /** Waits until `check` holds (re-checked at each arrival or close). */
  waitFor(check: () => boolean, what: string, ms?: number): Promise<void> {
    return whenTrue(check, (wake) => this.subscribe(wake), what, ms);
  }

  private subscribe(wake: () => void): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }


  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

}
