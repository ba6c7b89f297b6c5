/**
 * The agent's part of a session, for the CLI's tests: a real data-channel WebSocket to a real
 * server (signed Auth, Link, window respected), with stream 0 recorded and scripted (output,
 * Exit) and forwarded streams relayed to real TCP connections under data-streams' rules. The
 * server's SimulatedAgent holds the control channel; this plays the data channel.
 */
import { createHash, sign } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { data, streams } from '@airlock/protocol';
import { within, type SimulatedAgent, type TestServer } from '@airlock/testkit';
import WebSocket from 'ws';

export interface Relay {
  readonly host: string;
  readonly port: number;
  /** Refuse the Open of these stream ids (Close Reset, as when nothing listens). */
  readonly refuse?: (id: number) => boolean;
}

export class SessionAgent {
  readonly link = new data.Link();
  /** Stream 0's bytes from the client, and the other frames it sent on stream 0. */
  readonly input: Buffer[] = [];
  readonly resizes: { cols: number; rows: number }[] = [];
  inputFin = false;
  private readonly backlog: data.Outgoing[] = [];
  private readonly table = new streams.StreamTable('acceptor');
  private readonly sockets = new Map<number, Socket>();
  private readonly waiters = new Set<() => void>();
  private socket: WebSocket | undefined;
  relay: Relay | undefined;

  private constructor(readonly sessionId: string) {}

  /** Waits for the next session-open after `seen` of them, and opens its data channel. */
  static async attach(server: TestServer, agent: SimulatedAgent, seen: number): Promise<SessionAgent> {
    await agent.waitFor(() => agent.opened.length > seen, 'session-open');
    const opened = agent.opened[seen];
    if (opened === undefined) throw new Error('unreachable');
    const peer = new SessionAgent(opened.sessionId);
    if (opened.work.kind === 'port') peer.relay = { host: opened.work.host, port: opened.work.port };
    await peer.dial(`${server.url.replace(/^http/, 'ws')}${data.DATA_PATH_AGENT}`, agent, opened.nonce);
    return peer;
  }

  get inputBytes(): Buffer {
    return Buffer.concat(this.input);
  }

  get inputText(): string {
    return this.inputBytes.toString('utf8');
  }

  /** Output on stream 0, within the window (the rest waits for acknowledgements). */
  write(bytes: Uint8Array | string): void {
    for (const frame of streams.dataFrames(0, typeof bytes === 'string' ? Buffer.from(bytes) : bytes)) this.send(frame);
  }

  exit(status: number, reason = ''): void {
    this.send({ type: data.FrameType.Exit, payload: data.exitPayload(status, reason) });
  }

  /** Everything sent so far has been acknowledged by the server. */
  get drained(): boolean {
    return this.backlog.length === 0 && this.link.inFlight === 0;
  }

  waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (check()) return Promise.resolve();
    let wake = (): void => undefined;
    return within(
      new Promise<void>((resolve) => {
        wake = () => {
          if (check()) resolve();
        };
        this.waiters.add(wake);
      }),
      what,
      ms,
    ).finally(() => this.waiters.delete(wake));
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.destroy();
    this.socket?.terminate();
  }

  private async dial(url: string, agent: SimulatedAgent, nonce: string): Promise<void> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket = socket;
    let ready = (): void => undefined;
    const readied = new Promise<void>((resolve) => (ready = resolve));
    socket.on('message', (message: Buffer) => {
      for (const frame of data.decodeFrames(new Uint8Array(message))) {
        if (frame.type === data.FrameType.Ready) {
          const parsed = data.readReady(frame.payload);
          const resend = this.link.resendAfter(parsed?.lastReceived ?? 0);
          if (resend.length > 0) socket.send(data.encodeFrames(resend));
          ready();
          continue;
        }
        if (this.link.take(frame) === 'new') this.take(frame);
        this.link.consume(this.link.received);
      }
      const ack = this.link.ackIfDue();
      if (ack !== undefined) socket.send(data.encodeFrame(ack));
      this.drain();
      this.wake();
    });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const signature = sign(null, Buffer.from(data.agentDataChallenge(this.sessionId, agent.instanceId, nonce)), agent.privateKey).toString('base64');
    const auth: data.AuthMessage = { role: 'agent', sessionId: this.sessionId, instanceId: agent.instanceId, nonce, signature, lastReceived: 0, version: data.DATA_PROTOCOL_VERSION };
    socket.send(data.encodeFrame({ type: data.FrameType.Auth, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(auth) }));
    await within(readied, 'Ready for the agent');
  }

  private take(frame: data.Frame): void {
    if (frame.stream === 0) {
      if (frame.type === data.FrameType.Data) this.input.push(Buffer.from(frame.payload));
      if (frame.type === data.FrameType.Resize) this.resizes.push(data.readResize(frame.payload));
      if (frame.type === data.FrameType.Close && (frame.flags & data.FrameFlag.Fin) !== 0) this.inputFin = true;
      return;
    }
    const incoming = this.table.receive(frame);
    switch (incoming.kind) {
      case 'open':
        this.open(incoming.stream);
        return;
      case 'data': {
        const { stream, bytes } = incoming;
        this.sockets.get(stream.id)?.write(Buffer.from(bytes), () => this.sendAll(stream.written(bytes.length)));
        return;
      }
      case 'window': {
        this.sendAll(incoming.frames);
        const socket = this.sockets.get(incoming.stream.id);
        if (socket !== undefined && !incoming.stream.paused) socket.resume();
        return;
      }
      case 'fin':
        this.sockets.get(incoming.stream.id)?.end();
        return;
      case 'reset':
        this.sockets.get(incoming.stream.id)?.destroy();
        this.sockets.delete(incoming.stream.id);
        return;
      case 'violation':
        this.sendAll(incoming.frames);
        this.sockets.get(incoming.id)?.destroy();
        return;
      default:
        return;
    }
  }

  /** A forwarded connection: dial the relay's target; Ok, then bytes both ways. */
  private open(stream: streams.Stream): void {
    const relay = this.relay;
    if (relay === undefined || relay.refuse?.(stream.id) === true) {
      this.sendAll(stream.reset(`connect ECONNREFUSED ${relay?.host ?? '?'}:${relay?.port ?? 0}`));
      return;
    }
    const socket = connect({ host: relay.host, port: relay.port, allowHalfOpen: true, noDelay: true });
    this.sockets.set(stream.id, socket);
    socket.on('connect', () => {
      if (!stream.closed) this.sendAll(stream.accept());
    });
    socket.on('data', (chunk: Buffer) => {
      if (!stream.canSend) return;
      this.sendAll(stream.write(chunk));
      if (stream.paused) socket.pause();
    });
    socket.on('end', () => {
      if (stream.canSend) this.sendAll(stream.fin());
    });
    socket.on('error', (error: Error) => {
      this.sendAll(stream.reset(error.message));
    });
    socket.on('close', () => {
      this.sockets.delete(stream.id);
    });
  }

  private sendAll(frames: readonly data.Outgoing[]): void {
    for (const frame of frames) this.send(frame);
  }

  private send(message: data.Outgoing): void {
    this.backlog.push(message);
    this.drain();
  }

  private drain(): void {
    const frames: data.Frame[] = [];
    while (this.backlog.length > 0 && !this.link.full) {
      const message = this.backlog.shift();
      if (message !== undefined) frames.push(this.link.send(message));
    }
    if (frames.length > 0 && this.socket?.readyState === WebSocket.OPEN) {
      for (let start = 0; start < frames.length; start += 4) this.socket.send(data.encodeFrames(frames.slice(start, start + 4)));
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
