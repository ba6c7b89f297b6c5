/**
 * The server's side of the agent's data channel, for tests: a WebSocket server at
 * DATA_PATH_AGENT that checks the Auth frame's Ed25519 signature over agentDataChallenge, answers
 * Ready {sessionId, lastReceived}, resends what the agent has not taken, and keeps one Link per
 * session across reconnects, as the broker does. It records what arrives and can drop the
 * connection, send input, resize, open forwarded streams (with their credit) and end the session.
 */
import { verify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { data, streams } from '@airlock/protocol';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { waitFor } from './helpers.js';

export class HubSession {
  readonly link = new data.Link();
  /** Every new frame from the agent, in order. */
  readonly frames: data.Frame[] = [];
  readonly streams = new streams.StreamTable('opener');
  socket: WebSocket | undefined;
  /** Authenticated connections so far. */
  connections = 0;
  /** Acknowledge at once (default), or only on consume(). */
  autoAck = true;
  /** Bytes received per forwarded stream, and whether its Fin or Reset came. */
  readonly received = new Map<number, number[]>();
  readonly ended = new Map<number, 'fin' | { reset: string }>();
  readonly accepted = new Set<number>();
  /** Write the agent's stream bytes "to a socket" and return credit at once (default true). */
  returnCredit = true;
  /** Take the Auth but send no Ready, as the broker holds one end of a session until the other is back. */
  holdReady = false;

  constructor(
    readonly sessionId: string,
    readonly instanceId: string,
    /** The nonce the Auth must be signed over (a restarted server may hand out another). */
    public nonce: string,
    readonly publicKey: KeyObject,
  ) {}

  send(message: data.Outgoing): void {
    const frame = this.link.send(message);
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(frame));
  }

  sendAll(messages: readonly data.Outgoing[]): void {
    const frames = messages.map((message) => this.link.send(message));
    if (frames.length > 0 && this.socket?.readyState === WebSocket.OPEN) for (const message of streams.pack(frames)) this.socket.send(message);
  }

  input(bytes: Uint8Array | string): void {
    this.sendAll(streams.dataFrames(0, typeof bytes === 'string' ? data.utf8(bytes) : bytes));
  }

  resize(cols: number, rows: number): void {
    this.send({ type: data.FrameType.Resize, payload: data.resizePayload(cols, rows) });
  }

  end(reason: string): void {
    this.send({ type: data.FrameType.End, payload: data.utf8(reason) });
  }

  /** The bytes of stream 0's Data so far. */
  bytes(): Uint8Array {
    return Buffer.concat(this.frames.filter((frame) => frame.type === data.FrameType.Data && frame.stream === 0).map((frame) => frame.payload));
  }

  /** Stream 0's output as text (decoded as a whole: characters cut between frames come out whole). */
  text(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  get exit(): { status: number; reason: string } | undefined {
    const frame = this.frames.find((candidate) => candidate.type === data.FrameType.Exit);
    return frame === undefined ? undefined : data.readExit(frame.payload);
  }

  consume(): void {
    this.link.consume(this.link.received);
    const ack = this.link.ackIfDue();
    if (ack !== undefined && this.socket?.readyState === WebSocket.OPEN) this.socket.send(data.encodeFrame(ack));
  }

  /** Cuts the connection without a close frame, as a network would. */
  drop(): void {
    this.socket?.terminate();
  }

  waitForText(text: string | RegExp, timeoutMs = 8_000): Promise<void> {
    const found = (): boolean => (typeof text === 'string' ? this.text().includes(text) : text.test(this.text()));
    return waitFor(found, `${String(text)} in the output (so far: ${JSON.stringify(this.text().slice(-300))})`, timeoutMs);
  }

  /** Takes the agent's frames of one message; returns those that matter to streams. */
  take(frames: readonly data.Frame[]): void {
    for (const frame of frames) {
      if (this.link.take(frame) !== 'new') continue;
      this.frames.push(frame);
      if (frame.stream === 0) continue;
      const incoming = this.streams.receive(frame);
      switch (incoming.kind) {
        case 'accepted':
          this.accepted.add(frame.stream);
          break;
        case 'data': {
          const list = this.received.get(frame.stream) ?? [];
          for (const byte of incoming.bytes) list.push(byte);
          this.received.set(frame.stream, list);
          if (this.returnCredit) this.sendAll(incoming.stream.written(incoming.bytes.length));
          break;
        }
        case 'fin':
          this.ended.set(frame.stream, 'fin');
          break;
        case 'reset':
          this.ended.set(frame.stream, { reset: incoming.reason });
          break;
        case 'window':
          this.sendAll(incoming.frames);
          break;
        case 'violation':
          throw new Error(`the agent broke the stream rules: ${incoming.reason}`);
        default:
          break;
      }
    }
    if (this.autoAck) this.consume();
  }
}

export class DataHub {
  readonly sessions = new Map<string, HubSession>();
  /** Auth frames refused, with why. */
  readonly refusals: string[] = [];
  url = '';
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  private constructor() {
    this.#server = createServer((_request, response) => {
      response.writeHead(404).end();
    });
    this.#server.on('upgrade', (request, socket, head) => {
      if (new URL(request.url ?? '/', 'http://localhost').pathname !== data.DATA_PATH_AGENT) {
        socket.destroy();
        return;
      }
      this.#wss.handleUpgrade(request, socket, head, (ws) => {
        this.#accept(ws);
      });
    });
  }

  static async start(): Promise<DataHub> {
    const hub = new DataHub();
    await new Promise<void>((resolve) => hub.#server.listen(0, '127.0.0.1', resolve));
    hub.url = `http://127.0.0.1:${(hub.#server.address() as AddressInfo).port}`;
    return hub;
  }

  /** A session the agent will be told to open. */
  expect(sessionId: string, instanceId: string, nonce: string, publicKey: KeyObject): HubSession {
    const session = new HubSession(sessionId, instanceId, nonce, publicKey);
    this.sessions.set(sessionId, session);
    return session;
  }

  async stop(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    let session: HubSession | undefined;
    socket.on('message', (message: RawData) => {
      const frames = data.decodeFrames(message as Buffer);
      if (session !== undefined) {
        session.take(frames);
        return;
      }
      const first = frames[0];
      const auth = first?.type === data.FrameType.Auth ? data.readAuth(first.payload) : undefined;
      if (auth?.role !== 'agent') {
        this.refusals.push('not an agent Auth frame');
        socket.close(4400, 'the first message must be one Auth frame');
        return;
      }
      const found = this.sessions.get(auth.sessionId);
      const valid =
        found !== undefined &&
        found.instanceId === auth.instanceId &&
        found.nonce === auth.nonce &&
        auth.version === data.DATA_PROTOCOL_VERSION &&
        verify(null, Buffer.from(data.agentDataChallenge(auth.sessionId, auth.instanceId, auth.nonce)), found.publicKey, Buffer.from(auth.signature, 'base64'));
      if (!valid) {
        this.refusals.push(`bad Auth for ${auth.sessionId}`);
        socket.close(found === undefined ? 4404 : 4401, 'refused');
        return;
      }
      session = found;
      found.socket?.terminate();
      found.socket = socket;
      found.connections++;
      if (found.holdReady) return;
      const ready: data.Frame = { type: data.FrameType.Ready, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload({ sessionId: found.sessionId, lastReceived: found.link.received }) };
      socket.send(data.encodeFrames([ready, ...found.link.resendAfter(auth.lastReceived)]));
    });
    socket.on('close', () => {
      if (session?.socket === socket) session.socket = undefined;
    });
    socket.on('error', () => undefined);
  }
}
