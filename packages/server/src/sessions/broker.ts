/**
 * The broker: the sessions open on this node, each joining two hops of the data channel, the
 * client's and the agent's. Every hop has its own numbering (a Link), so either side may drop
 * and come back without the other noticing: frames wait, unacknowledged, and are sent again.
 *
 * Flow control: a frame from one side is acknowledged (its sender may forget it and send more)
 * only once it has been passed to the other side's link and that link has room. A reader that
 * stops therefore stops the writer at the window, and the node holds at most about one window
 * per direction for a session, however long a shell prints.
 *
 * Ending: the program's exit, TerminateSession, the idle timeout, the maximum duration, the agent
 * gone for good, or the agent's refusal end the session with a status and a reason; both sides
 * get an End frame, the agent a session-close, and the record its final status.
 */
import { randomBytes } from 'node:crypto';
import { data, type control } from '@airlock/protocol';
import { WebSocket } from 'ws';
import type { AgentHub } from '../fleet/agents.js';
import type { Db } from '../storage/db.js';
import type { SessionsTable } from '../storage/schema.js';

export type Side = 'client' | 'agent';
type EndStatus = Extract<SessionsTable['status'], 'Terminated' | 'Failed'>;

export interface BrokerOptions {
  /** How long an agent may be away (data channel down) before its session fails. */
  readonly agentGraceMs: number;
  /** How long StartSession's agent has to dial the data channel. */
  readonly agentDialMs: number;
  /** How often deadlines are checked. */
  readonly tickMs: number;
}

export const DEFAULT_BROKER_OPTIONS: BrokerOptions = { agentGraceMs: 60_000, agentDialMs: 30_000, tickMs: 1_000 };

/** Close codes on the data channel. */
export const DataCloseCode = {
  Normal: 1000,
  Malformed: 4400,
  Unauthorized: 4401,
  NotHere: 4404,
  Replaced: 4409,
} as const;

/** Which frame types each side may send (Auth and Ready belong to the handshake). */
const FROM: Record<Side, ReadonlySet<number>> = {
  client: new Set([data.FrameType.Data, data.FrameType.Resize, data.FrameType.Open, data.FrameType.Close, data.FrameType.Window]),
  agent: new Set([data.FrameType.Data, data.FrameType.Open, data.FrameType.Close, data.FrameType.Window, data.FrameType.Exit]),
};

interface Hop {
  readonly link: data.Link;
  socket: WebSocket | undefined;
  /** Frames waiting for this tick's write, in order. */
  outbox: data.Frame[];
  /** The last of this side's frames passed on but not yet acknowledged (waiting for room on the other side). */
  passedOn: number;
  /** When this side's data channel went away (services' clock); undefined while attached or never attached. */
  awaySince: number | undefined;
  /** Payload bytes taken from this side and not yet acknowledged: a peer may not send past its window. */
  unacknowledgedBytes: number;
}

export interface SessionPlan {
  readonly sessionId: string;
  readonly instanceId: string;
  readonly work: control.SessionWork;
  readonly startedAt: number;
  readonly idleTimeoutMs: number;
  readonly maxDurationMs: number | null;
}

export class LiveSession {
  readonly nonce = randomBytes(32).toString('base64');
  readonly hops: Record<Side, Hop>;
  lastActivityAt: number;
  ended = false;
  private flushQueued = false;

  constructor(
    readonly plan: SessionPlan,
    private readonly broker: SessionBroker,
    window: number,
  ) {
    const hop = (): Hop => ({ link: new data.Link(window), socket: undefined, outbox: [], passedOn: 0, awaySince: undefined, unacknowledgedBytes: 0 });
    this.hops = { client: hop(), agent: hop() };
    this.lastActivityAt = plan.startedAt;
  }

  get id(): string {
    return this.plan.sessionId;
  }

  /** A side's data channel is open and authenticated: it resumes from `peerReceived`. */
  attach(side: Side, socket: WebSocket, peerReceived: number): void {
    const hop = this.hops[side];
    const previous = hop.socket;
    hop.socket = socket;
    hop.awaySince = undefined;
    if (previous !== undefined && previous !== socket) previous.close(DataCloseCode.Replaced, 'replaced by a newer connection');
    const ready: data.Frame = { type: data.FrameType.Ready, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload({ sessionId: this.id, lastReceived: hop.link.received }) };
    // Whatever was queued for the old socket is in the link's resend list already.
    hop.outbox = [ready, ...hop.link.resendAfter(peerReceived)];
    this.flush();
    this.broker.attached(this, side);
  }

  /** The side's socket closed: frames for it wait in its link. */
  detach(side: Side, socket: WebSocket): void {
    const hop = this.hops[side];
    if (hop.socket !== socket) return;
    hop.socket = undefined;
    hop.outbox = [];
    hop.awaySince = this.broker.now();
    if (!this.ended) this.broker.detached(this, side);
  }

  /** Frames that arrived from `side`, in one message. Throws FrameError for a broken peer. */
  receive(side: Side, frames: readonly data.Frame[]): void {
    const hop = this.hops[side];
    const other = this.hops[side === 'client' ? 'agent' : 'client'];
    for (const frame of frames) {
      if (hop.link.take(frame) !== 'new') continue;
      if (!FROM[side].has(frame.type)) throw new data.FrameError(`a ${side} does not send frames of type ${frame.type}`);
      hop.unacknowledgedBytes += frame.payload.length;
      if (hop.unacknowledgedBytes > hop.link.window + data.MAX_PAYLOAD) throw new data.FrameError(`the ${side} sent more than its window without waiting for acknowledgement`);
      if (side === 'client' || frame.stream !== 0) this.lastActivityAt = this.broker.now();
      if (frame.type === data.FrameType.Exit) {
        hop.link.consume(frame.seq);
        const { status, reason } = data.readExit(frame.payload);
        this.queue(other, { type: data.FrameType.Exit, payload: frame.payload });
        this.broker.end(this, 'Terminated', reason === '' ? `the program exited with status ${status}` : reason);
        return;
      }
      this.queue(other, { type: frame.type, flags: frame.flags, stream: frame.stream, payload: frame.payload });
      hop.passedOn = frame.seq;
    }
    this.settle(side);
    // What `side` acknowledged may have made room for the other side's frames.
    this.settle(side === 'client' ? 'agent' : 'client');
  }

  /** Acknowledges what `side` sent and was passed on, if the other side's link has room for more. */
  private settle(side: Side): void {
    const hop = this.hops[side];
    const other = this.hops[side === 'client' ? 'agent' : 'client'];
    if (hop.passedOn > hop.link.consumedSeq && !other.link.full) {
      hop.link.consume(hop.passedOn);
      hop.unacknowledgedBytes = 0;
      this.scheduleFlush();
    }
  }

  /** Sends a frame to `hop` (numbered now; written at the end of this turn, or on reconnect). */
  private queue(hop: Hop, message: data.Outgoing): void {
    const frame = hop.link.send(message);
    if (hop.socket !== undefined) hop.outbox.push(frame);
    this.scheduleFlush();
  }

  /** Tells both sides the session is over, then closes their channels. */
  close(reason: string): void {
    for (const side of ['client', 'agent'] as const) this.queue(this.hops[side], { type: data.FrameType.End, payload: data.utf8(reason) });
    this.flush();
    for (const side of ['client', 'agent'] as const) {
      const socket = this.hops[side].socket;
      this.hops[side].socket = undefined;
      socket?.close(DataCloseCode.Normal, 'the session ended');
    }
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Writes each hop's waiting frames as one message, with an Ack when nothing else carries it. */
  private flush(): void {
    for (const hop of Object.values(this.hops)) {
      const socket = hop.socket;
      if (socket === undefined || socket.readyState !== WebSocket.OPEN) continue;
      const frames = hop.outbox;
      hop.outbox = [];
      const ack = hop.link.ackIfDue();
      if (ack !== undefined) frames.push(ack);
      if (frames.length > 0) socket.send(data.encodeFrames(frames));
    }
  }
}

export interface BrokerDeps {
  readonly db: Db;
  readonly agents: AgentHub;
  readonly clock: { now(): number };
  readonly log: { error(message: string, error?: unknown): void };
}

export class SessionBroker {
  private readonly sessions = new Map<string, LiveSession>();
  private timer: NodeJS.Timeout | undefined;
  private settings: BrokerOptions;
  private closed = false;

  constructor(
    private readonly deps: BrokerDeps,
    options: Partial<BrokerOptions> = {},
    private readonly window = data.DEFAULT_WINDOW,
  ) {
    this.settings = { ...DEFAULT_BROKER_OPTIONS, ...options };
    deps.agents.onSessionFailed = (instanceId, sessionId, reason) => {
      const session = this.sessions.get(sessionId);
      if (session?.plan.instanceId === instanceId) this.end(session, 'Failed', reason);
    };
  }

  /** Set by the server: a session ended, Terminated or Failed (the event bus makes an event of it: events.sessionEnded). */
  onEnded: (sessionId: string, status: EndStatus, reason: string) => void = () => undefined;

  now(): number {
    return this.deps.clock.now();
  }

  get(sessionId: string): LiveSession | undefined {
    return this.sessions.get(sessionId);
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Opens a session: the agent is asked to dial this node. False when its control channel is not here. */
  open(plan: SessionPlan): LiveSession | undefined {
    const agent = this.deps.agents.get(plan.instanceId);
    if (agent === undefined) return undefined;
    const session = new LiveSession(plan, this, this.window);
    this.sessions.set(plan.sessionId, session);
    session.hops.agent.awaySince = plan.startedAt;
    if (!agent.send({ type: 'session-open', sessionId: plan.sessionId, nonce: session.nonce, work: plan.work })) {
      this.sessions.delete(plan.sessionId);
      return undefined;
    }
    return session;
  }

  attached(session: LiveSession, side: Side): void {
    if (side === 'client') session.lastActivityAt = this.now();
    if (session.hops.client.socket !== undefined && session.hops.agent.socket !== undefined) void this.setStatus(session, 'Connected');
  }

  detached(session: LiveSession, side: Side): void {
    if (side === 'client') void this.setStatus(session, 'Disconnected');
  }

  /** Ends a session for good, once; recorded with its status and reason. */
  end(session: LiveSession, status: EndStatus, reason: string): void {
    if (session.ended) return;
    session.ended = true;
    this.sessions.delete(session.id);
    // Rules may notify on a session's end (the Session Manager Session State-change Notification).
    this.onEnded(session.id, status, reason);
    session.close(reason);
    this.deps.agents.get(session.plan.instanceId)?.send({ type: 'session-close', sessionId: session.id, reason });
    this.deps.db
      .updateTable('sessions')
      .set({ status, details: reason, ended_at: this.now(), token_hash: null, token_expires_at: null })
      .where('session_id', '=', session.id)
      .execute()
      .catch((error: unknown) => {
        if (!this.closed) this.deps.log.error(`sessions: recording the end of ${session.id} failed`, error);
      });
  }

  private async setStatus(session: LiveSession, status: 'Connected' | 'Disconnected'): Promise<void> {
    try {
      await this.deps.db.updateTable('sessions').set({ status }).where('session_id', '=', session.id).where('status', 'in', ['Connecting', 'Connected', 'Disconnected']).execute();
    } catch (error) {
      if (!this.closed) this.deps.log.error(`sessions: recording that ${session.id} is ${status} failed`, error);
    }
  }

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => {
      this.tick();
    }, this.settings.tickMs);
    this.timer.unref();
  }

  configure(options: Partial<BrokerOptions>): void {
    this.settings = { ...this.settings, ...options };
  }

  /** Ends the sessions past a deadline: idle, maximum duration, agent away or never come. */
  tick(): void {
    const now = this.now();
    for (const session of [...this.sessions.values()]) {
      const { plan } = session;
      const agentAway = session.hops.agent.awaySince;
      if (plan.maxDurationMs !== null && now - plan.startedAt >= plan.maxDurationMs) {
        this.end(session, 'Terminated', `the session reached its maximum duration of ${minutes(plan.maxDurationMs)}`);
      } else if (now - session.lastActivityAt >= plan.idleTimeoutMs) {
        this.end(session, 'Terminated', `the session was idle for ${minutes(plan.idleTimeoutMs)}`);
      } else if (agentAway !== undefined && session.hops.agent.link.received === 0 && now - agentAway >= this.settings.agentDialMs) {
        this.end(session, 'Failed', `the agent on ${plan.instanceId} did not open the session within ${Math.round(this.settings.agentDialMs / 1000)} seconds`);
      } else if (agentAway !== undefined && now - agentAway >= this.settings.agentGraceMs) {
        this.end(session, 'Failed', `the agent on ${plan.instanceId} went away and did not come back within ${Math.round(this.settings.agentGraceMs / 1000)} seconds`);
      }
    }
  }

  /** Shuts down: sessions here end (Failed: the node stopped); clients may start new ones elsewhere. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const open = [...this.sessions.values()];
    for (const session of open) this.end(session, 'Failed', 'the Airlock server node stopped');
    this.closed = true;
    await this.deps.db
      .updateTable('sessions')
      .set({ status: 'Failed', details: 'the Airlock server node stopped', ended_at: this.now(), token_hash: null, token_expires_at: null })
      .where('session_id', 'in', open.length === 0 ? [''] : open.map((session) => session.id))
      .where('status', 'not in', ['Terminated', 'Failed'])
      .execute();
  }
}

function minutes(ms: number): string {
  const value = Math.round(ms / 60_000);
  return value === 1 ? '1 minute' : `${value} minutes`;
}
