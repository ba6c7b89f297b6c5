/**
 * The broker: the sessions open on this node, each joining two hops of the data channel, the
 * client's and the agent's. Every hop has its own numbering (a Link), so either side may drop
 * and come back without the other noticing: frames wait, unacknowledged, and are sent again.
 *
 * Flow control: a frame from one side is acknowledged (its sender may forget it and send more)
 * only once the other side has acknowledged it: the broker passes every frame on one for one and
 * injects none while the session runs, so a frame has the same number on both hops. A reader
 * that stops therefore stops the writer at the window, the node holds at most about one window
 * per direction for a session, however long a shell prints, and each end holds whatever the
 * other has not got (what a takeover by another node rebuilds the session from: `adopt`).
 *
 * Recording: every frame passed on is appended to the session's record (record.ts), and a frame
 * is acknowledged to its sender only once the record holding it is on disk. Passing it on is not
 * delayed by the write; only the acknowledgement is. After a restart the sessions whose record is
 * here are revived from it: each side reconnects, says what it has, and gets the rest again.
 *
 * Several nodes: the session lives on the node that served StartSession, and its agent dials that
 * node directly (session-open names it); an agent held by another node is asked through that
 * node (`askElsewhere`, the relay), again every few seconds while its data channel is missing,
 * since the agent may have moved to another node meanwhile.
 *
 * Ending: the program's exit, TerminateSession, the idle timeout, the maximum duration, the agent
 * gone for good, or the agent's refusal end the session with a status and a reason; both sides
 * get an End frame, the agent a session-close, and the record is sealed: its chain head goes to
 * the audit trail.
 */
import { randomBytes } from 'node:crypto';
import { stat, truncate } from 'node:fs/promises';
import { data, streams, type control } from '@airlock/protocol';
import { WebSocket } from 'ws';
import type { AuditTrail } from '../audit/trail.js';
import type { AgentHub } from '../fleet/agents.js';
import type { Db } from '../storage/db.js';
import type { SessionsTable } from '../storage/schema.js';
import { GENESIS, readRecord, recordPath, RecordWriter, type Direction, type ReadRecord, type RecordEntry } from './record.js';
import { sealRecord } from './record-seal.js';
import { handOverSegment, segmentHere, type SegmentDeps } from './record-segments.js';

export type Side = 'client' | 'agent';
type EndStatus = Extract<SessionsTable['status'], 'Terminated' | 'Failed'>;

export interface BrokerOptions {
  /** How long an agent may be away (data channel down) before its session fails. */
  readonly agentGraceMs: number;
  /** How long StartSession's agent has to dial the data channel. */
  readonly agentDialMs: number;
  /** How often deadlines are checked. */
  readonly tickMs: number;
  /**
   * Benchmarks only (bench/recording.mjs, recording on versus off): sessions keep no record and
   * frames are acknowledged without waiting for a disk. No flag, setting or variable sets it:
   * only a program that starts the server itself (startServer's `sessions` option) can.
   */
  readonly unrecorded?: boolean;
  /**
   * Tests only (the crash race made certain): each batch of the record waits this long before
   * its write, so frames reach the other side well before they are on disk. Set like `unrecorded`.
   */
  readonly recordDelayMs?: number;
  /** How long a side ahead of the record may wait, with the other side here, for it to catch up. */
  readonly aheadWaitMs: number;
}

/** Several nodes: how often an agent held elsewhere is asked again to dial a session it has not (re)joined. */
const ASK_AGAIN_MS = 3_000;

export const DEFAULT_BROKER_OPTIONS: BrokerOptions = { agentGraceMs: 60_000, agentDialMs: 30_000, tickMs: 1_000, aheadWaitMs: 10_000 };

/** Close codes on the data channel. */
export const DataCloseCode = {
  Normal: 1000,
  /** Not this node's any more: resume (ResumeSession says where). */
  GoingAway: 1001,
  Malformed: 4400,
  Unauthorized: 4401,
  NotHere: 4404,
  Replaced: 4409,
} as const;

/** Which frame types each side may send (Auth and Ready belong to the handshake). */
const FROM: Record<Side, ReadonlySet<number>> = {
  client: new Set([data.FrameType.Data, data.FrameType.Resize, data.FrameType.Open, data.FrameType.Close, data.FrameType.Window]),
  agent: new Set([data.FrameType.Data, data.FrameType.Open, data.FrameType.Close, data.FrameType.Window, data.FrameType.Exit, data.FrameType.Mode]),
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
  /** The last of this side's frames the record holds on disk. */
  durable: number;
  /** This side has had a data channel (in this life of the session, or before a restart). */
  joined: boolean;
  /**
   * This side's last Auth said what of its own frames was acknowledged (`lastAcknowledged`), so
   * a session can be resumed from it and the other end alone, without the record's copy.
   */
  resumableFromEnds: boolean;
  /** Sends a lone Ack that found no frame to ride on. */
  readonly ackTimer: streams.AckTimer;
  /**
   * After a crash: this side has the other's frames up to `seq`, beyond the record's end (they
   * reached it before their batch reached the disk). The other side, never acknowledged for
   * them, sends them again: they are recorded under the same numbers and not sent twice.
   * `otherHereSince`: since when both sides are here, for the bound on the wait.
   */
  ahead: { readonly seq: number; otherHereSince: number | undefined } | undefined;
}

/** The payload of an entry whose bytes the record does not hold (withheld or elided), and of a bare Ack. */
const NO_BYTES = new Uint8Array(0);

/** Frames from the client are the session's input, from the agent its output. */
const DIRECTION: Record<Side, Direction> = { client: 'input', agent: 'output' };

export interface SessionPlan {
  readonly sessionId: string;
  readonly instanceId: string;
  readonly work: control.SessionWork;
  readonly startedAt: number;
  readonly idleTimeoutMs: number;
  readonly maxDurationMs: number | null;
  /** What the agent signs to open the data channel (kept with the session, so a revived one knows it). */
  readonly nonce: string;
}

export const newNonce = (): string => randomBytes(32).toString('base64');

/** A data channel authenticated and not yet Ready: an end of a session taken over, waiting for the other end. */
interface WaitingEnd {
  readonly socket: WebSocket;
  readonly position: data.AuthPosition;
}

export class LiveSession {
  hops: Record<Side, Hop>;
  /**
   * Taken over from a node that died (`SessionBroker.adopt`): nothing of the links is known here
   * until both ends have said where they stand, so each waits, without Ready, for the other.
   */
  private awaiting: Partial<Record<Side, WaitingEnd>> | undefined;
  lastActivityAt: number;
  ended = false;
  /** The agent's last Mode says the terminal hides input (a password prompt): the client's keystrokes are recorded withheld. */
  inputHidden = false;
  /** The program exited: the session ends once the client has the Exit (or has been away too long). */
  exited: { readonly reason: string; readonly seq: number; readonly at: number } | undefined;
  private flushQueued = false;
  /** When the agent was last asked to dial (services' clock). */
  askedAt = -Infinity;
  /**
   * Rebuilt from its two ends (`awaitEnds`): the last frame of each side that this node's record
   * holds already. Its sender may send it again (it had no acknowledgement yet): it is passed on
   * as any other, not recorded twice.
   */
  private recordedThrough: Record<Side, number> = { client: 0, agent: 0 };

  constructor(
    readonly plan: SessionPlan,
    private readonly broker: SessionBroker,
    readonly record: RecordWriter,
    links: Record<Side, data.Link>,
    now: number,
  ) {
    this.hops = { client: this.hop(links.client, now), agent: this.hop(links.agent, now) };
    this.lastActivityAt = now;
  }

  private hop(link: data.Link, now: number | undefined): Hop {
    const made: Hop = {
      link,
      socket: undefined,
      outbox: [],
      passedOn: link.received,
      awaySince: now,
      unacknowledgedBytes: 0,
      durable: link.received,
      joined: link.received > 0 || link.delivered > 0,
      resumableFromEnds: false,
      ackTimer: new streams.AckTimer(link, (ackNow) => {
        if (!this.ended) this.write(made, ackNow);
      }),
      ahead: undefined,
    };
    return made;
  }

  /**
   * Taken over, or revived with a record that cannot say everything the ends may lack (its
   * forwarded bytes are elided): the agent has had the session (it resumes, never starts it
   * anew), and each end waits for the other. `recorded`: this node's record of it so far. The
   * terminal's mode is not known here until the agent says it again (it does on every resumed
   * channel): till then the client's keystrokes are recorded withheld, since one may be a
   * password typed at a prompt while the session was moving.
   */
  awaitEnds(recorded: readonly RecordEntry[]): void {
    this.awaiting = {};
    const last = (direction: Direction): number => recorded.reduce((max, entry) => (entry.direction === direction ? Math.max(max, entry.inSeq) : max), 0);
    this.recordedThrough = { client: last('input'), agent: last('output') };
    this.inputHidden = true;
    this.hops.agent.joined = true;
    this.hops.client.joined = true;
  }

  /** The agent's data channel is here (if only waiting for the client's, after a takeover). */
  get agentHere(): boolean {
    return this.hops.agent.socket !== undefined || this.awaiting?.agent !== undefined;
  }

  get id(): string {
    return this.plan.sessionId;
  }

  get nonce(): string {
    return this.plan.nonce;
  }

  /** The record reached the disk up to these frames: they may now be acknowledged. */
  recorded(durable: Partial<Record<Direction, number>>): void {
    if (durable.input !== undefined) this.hops.client.durable = Math.max(this.hops.client.durable, durable.input);
    if (durable.output !== undefined) this.hops.agent.durable = Math.max(this.hops.agent.durable, durable.output);
    this.settle('client');
    this.settle('agent');
  }

  /** A side's data channel is open and authenticated: it resumes from where it says it stands. */
  attach(side: Side, socket: WebSocket, position: data.AuthPosition): void {
    if (this.awaiting !== undefined) {
      this.waitForOtherEnd(side, { socket, position });
      return;
    }
    const peerReceived = position.lastReceived;
    const hop = this.hops[side];
    const sent = hop.link.sent;
    // The other side holds at most a window of unacknowledged bytes, so it cannot send again more
    // frames than that (a Data frame carries a byte at least): a claim beyond is no lost tail.
    if (peerReceived > sent + hop.link.window) {
      socket.close(DataCloseCode.Malformed, `you acknowledged frame ${peerReceived}; this session has sent ${sent}`);
      return;
    }
    hop.ahead = peerReceived > sent ? { seq: peerReceived, otherHereSince: undefined } : undefined;
    const previous = hop.socket;
    hop.socket = socket;
    hop.awaySince = undefined;
    hop.joined = true;
    hop.resumableFromEnds = position.lastAcknowledged !== undefined;
    if (previous !== undefined && previous !== socket) previous.close(DataCloseCode.Replaced, 'replaced by a newer connection');
    const ready: data.Frame = { type: data.FrameType.Ready, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload({ sessionId: this.id, lastReceived: hop.link.received }) };
    // Whatever was queued for the old socket is in the link's resend list already.
    hop.outbox = [ready, ...hop.link.resendAfter(Math.min(peerReceived, sent))];
    // What it says it has is acknowledged to the other side now (end to end), not at its next frame:
    // a side that had everything and sends nothing would leave the other's window full for good.
    this.settle(side === 'client' ? 'agent' : 'client');
    this.flush();
    this.broker.attached(this, side);
    // A client back after the program exited has just been sent the rest and the Exit: End follows.
    if (side === 'client' && this.exited !== undefined) this.broker.end(this, 'Terminated', this.exited.reason);
  }

  /**
   * After a takeover: each end, once both are here, resumes from what the other has had
   * acknowledged. Every frame acknowledged was in the dead node's record on disk and at the far
   * end (end to end); every later one its sender still holds and sends again, and this node
   * records it, passing on only what the far end says it lacks (`ahead`, as after a restart).
   */
  private waitForOtherEnd(side: Side, end: WaitingEnd): void {
    const awaiting = this.awaiting ?? {};
    if (end.position.lastAcknowledged === undefined) {
      end.socket.close(DataCloseCode.NotHere, 'this session resumes from what both of its ends hold (it moved, or its server restarted), and this version of the software cannot say that: start a new session');
      return;
    }
    const previous = awaiting[side]?.socket;
    if (previous !== undefined && previous !== end.socket) previous.close(DataCloseCode.Replaced, 'replaced by a newer connection');
    awaiting[side] = end;
    if (side === 'agent') this.hops.agent.awaySince = undefined;
    const { client, agent } = awaiting;
    const clientAcknowledged = client?.position.lastAcknowledged;
    const agentAcknowledged = agent?.position.lastAcknowledged;
    if (client === undefined || agent === undefined || clientAcknowledged === undefined || agentAcknowledged === undefined) return;
    // Acknowledged end to end: each end has at least what the other was acknowledged for. One
    // that says less lost what it acknowledged; resuming it would skip those frames for good.
    const ends: Record<Side, WaitingEnd> = { client, agent };
    const otherAcknowledged: Record<Side, number> = { client: agentAcknowledged, agent: clientAcknowledged };
    const lacking = (['client', 'agent'] as const).find((near) => ends[near].position.lastReceived < otherAcknowledged[near]);
    if (lacking !== undefined) {
      this.awaiting = lacking === 'client' ? { agent } : { client };
      if (lacking === 'agent') this.hops.agent.awaySince = this.broker.now();
      ends[lacking].socket.close(DataCloseCode.Malformed, `you have the other end's frames up to ${ends[lacking].position.lastReceived}, yet they were acknowledged up to ${otherAcknowledged[lacking]}: this end cannot resume the session`);
      return;
    }
    this.awaiting = undefined;
    const window = this.hops.client.link.window;
    // Each hop: the end's own frames taken up to what it had acknowledged, the far end's numbered on from theirs.
    const link = (taken: number, farAcknowledged: number): data.Link => data.Link.restore({ window, received: taken, nextSeq: farAcknowledged + 1, unacked: [] });
    for (const old of Object.values(this.hops)) old.ackTimer.cancel();
    this.hops = { client: this.hop(link(clientAcknowledged, agentAcknowledged), undefined), agent: this.hop(link(agentAcknowledged, clientAcknowledged), undefined) };
    this.hops.client.joined = true;
    this.hops.agent.joined = true;
    this.attach('client', client.socket, client.position);
    this.attach('agent', agent.socket, agent.position);
  }

  /** The side's socket closed: frames for it wait in its link. */
  detach(side: Side, socket: WebSocket): void {
    if (this.awaiting?.[side]?.socket === socket) {
      const { [side]: _gone, ...rest } = this.awaiting;
      this.awaiting = rest;
      if (side === 'agent') this.hops.agent.awaySince = this.broker.now();
      return;
    }
    const hop = this.hops[side];
    if (hop.socket !== socket) return;
    hop.socket = undefined;
    hop.outbox = [];
    hop.ackTimer.cancel();
    hop.awaySince = this.broker.now();
    if (!this.ended) this.broker.detached(this, side);
  }

  /** Frames that arrived from `side`, in one message. Throws FrameError for a broken peer. */
  receive(side: Side, frames: readonly data.Frame[]): void {
    if (this.ended) return;
    if (this.awaiting !== undefined) throw new data.FrameError('wait for Ready before sending frames');
    const hop = this.hops[side];
    const other = this.hops[side === 'client' ? 'agent' : 'client'];
    for (const received of frames) {
      // A side ahead of the record acknowledges frames not numbered again yet: it has them.
      const frame = hop.ahead !== undefined && received.ack > hop.link.sent && received.ack <= hop.ahead.seq ? { ...received, ack: hop.link.sent } : received;
      if (hop.link.take(frame) !== 'new') continue;
      if (!FROM[side].has(frame.type)) throw new data.FrameError(`a ${side} does not send frames of type ${frame.type}`);
      hop.unacknowledgedBytes += frame.payload.length;
      if (hop.unacknowledgedBytes > hop.link.window + data.MAX_PAYLOAD) throw new data.FrameError(`the ${side} sent more than its window without waiting for acknowledgement`);
      if (side === 'client' || frame.stream !== 0) this.lastActivityAt = this.broker.now();
      if (frame.type === data.FrameType.Mode) {
        if (frame.stream !== 0) throw new data.FrameError(`a Mode frame is the terminal's (stream 0), not stream ${frame.stream}'s`);
        this.inputHidden = data.hidesInput(data.readMode(frame.payload));
      }
      const passed = this.queue(other, { type: frame.type, flags: frame.flags, stream: frame.stream, payload: frame.payload });
      // End-to-end acknowledgement reads one hop's numbers in the other's: they must not drift.
      if (passed.seq !== frame.seq) throw new Error(`session ${this.id}: the ${side}'s frame ${frame.seq} went on as ${passed.seq}`);
      if (frame.seq <= this.recordedThrough[side]) {
        // Sent again after a takeover or restart, and in this node's record already.
        hop.durable = Math.max(hop.durable, frame.seq);
      } else {
        const entry: RecordEntry = { direction: DIRECTION[side], type: frame.type, flags: frame.flags, stream: frame.stream, inSeq: frame.seq, outSeq: passed.seq, time: this.broker.now(), ...this.recordedPayload(side, frame) };
        this.record.append(entry);
        this.broker.onFrame(this.id, entry);
      }
      hop.passedOn = frame.seq;
      if (frame.type === data.FrameType.Exit) {
        const { status, reason } = data.readExit(frame.payload);
        this.exited = { reason: reason === '' ? `the program exited with status ${status}` : reason, seq: passed.seq, at: this.broker.now() };
      }
    }
    // The program exited: with the client here, the session ends now (Exit goes out before End);
    // a client that dropped gets the output and the exit when it resumes, then the session ends.
    if (this.exited !== undefined && (this.hops.client.socket !== undefined || this.hops.client.link.delivered >= this.exited.seq)) {
      this.broker.end(this, 'Terminated', this.exited.reason);
      return;
    }
    this.settle(side);
    // What `side` acknowledged may have made room for the other side's frames.
    this.settle(side === 'client' ? 'agent' : 'client');
  }

  /**
   * A port session whose two ends can each say what of theirs was acknowledged: its forwarded
   * bytes need not be in the record (an end of an older version could not resume without them).
   */
  private get elidesForwarded(): boolean {
    return this.plan.work.kind === 'port' && this.hops.client.resumableFromEnds && this.hops.agent.resumableFromEnds;
  }

  /**
   * What the record keeps of a frame's bytes. A keystroke typed at a password prompt: only that
   * there was one (the agent gets the bytes). A port session's forwarded data: only how many
   * bytes (it is recorded as its connections; each end holds its bytes until the far end has
   * them, so a revived or taken-over session needs none of them from the record).
   */
  private recordedPayload(side: Side, frame: data.Frame): Pick<RecordEntry, 'payload' | 'withheld' | 'elided'> {
    if (frame.type !== data.FrameType.Data) return { payload: frame.payload };
    if (frame.stream !== 0 && this.elidesForwarded) return { payload: NO_BYTES, elided: frame.payload.length };
    if (side === 'client' && this.inputHidden) return { payload: NO_BYTES, withheld: true };
    return { payload: frame.payload };
  }

  /**
   * Acknowledges what `side` sent once it is in the record on disk **and** the other side has
   * acknowledged it (end to end): frames keep their numbers across the broker, so the other
   * side's `delivered` is in the sender's numbering. Each end therefore holds whatever the other
   * has not got, which is what lets a node that never saw the session take it over from the two
   * ends alone (`adopt`), and it bounds what the node holds to a window per direction.
   */
  private settle(side: Side): void {
    const hop = this.hops[side];
    const other = this.hops[side === 'client' ? 'agent' : 'client'];
    const handedOn = Math.min(hop.passedOn, hop.durable, other.link.delivered);
    if (handedOn > hop.link.consumedSeq) {
      hop.link.consume(handedOn);
      hop.unacknowledgedBytes = 0;
      this.scheduleFlush();
    }
  }

  /** Sends a frame to `hop` (numbered now; written at the end of this turn, or on reconnect). */
  private queue(hop: Hop, message: data.Outgoing): data.Frame {
    const frame = hop.link.send(message);
    if (hop.ahead !== undefined && frame.seq <= hop.ahead.seq) {
      // The peer had this one before the crash: acknowledged at once, not sent again.
      hop.link.take({ type: data.FrameType.Ack, flags: 0, stream: 0, seq: 0, ack: frame.seq, payload: NO_BYTES });
      if (frame.seq === hop.ahead.seq) hop.ahead = undefined;
      this.scheduleFlush();
      return frame;
    }
    if (hop.socket !== undefined) hop.outbox.push(frame);
    this.scheduleFlush();
    return frame;
  }

  /**
   * A side still ahead of the record after the other side has been here `waitMs`: the frames it
   * claims were not sent again, so they never existed; its channel is closed, saying so.
   */
  refuseOverdueAhead(now: number, waitMs: number): void {
    for (const side of ['client', 'agent'] as const) {
      const hop = this.hops[side];
      const { ahead, socket } = hop;
      if (ahead === undefined || socket === undefined) continue;
      if (this.hops[side === 'client' ? 'agent' : 'client'].socket === undefined) {
        ahead.otherHereSince = undefined;
        continue;
      }
      ahead.otherHereSince ??= now;
      if (now - ahead.otherHereSince < waitMs) continue;
      hop.ahead = undefined;
      this.detach(side, socket);
      socket.close(DataCloseCode.Malformed, `you acknowledged frame ${ahead.seq}; this session has sent ${hop.link.sent}`);
    }
  }

  /** Closes both sides' channels (and any waiting end's) without a word about the session's end: they call ResumeSession and find where it is. */
  disconnect(reason: string): void {
    for (const end of Object.values(this.awaiting ?? {})) end.socket.close(DataCloseCode.GoingAway, reason);
    this.awaiting = undefined;
    for (const side of ['client', 'agent'] as const) {
      const hop = this.hops[side];
      hop.ackTimer.cancel();
      hop.socket?.close(DataCloseCode.GoingAway, reason);
      hop.socket = undefined;
    }
  }

  /** Tells both sides the session is over, then closes their channels (an end still waiting for the other hears it in the close). */
  close(reason: string): void {
    for (const end of Object.values(this.awaiting ?? {})) end.socket.close(DataCloseCode.Normal, 'the session ended');
    this.awaiting = undefined;
    for (const side of ['client', 'agent'] as const) this.hops[side].ahead = undefined;
    for (const side of ['client', 'agent'] as const) this.queue(this.hops[side], { type: data.FrameType.End, payload: data.utf8(reason) });
    this.flush();
    for (const side of ['client', 'agent'] as const) {
      const socket = this.hops[side].socket;
      this.hops[side].socket = undefined;
      this.hops[side].ackTimer.cancel();
      socket?.close(DataCloseCode.Normal, 'the session ended');
    }
  }

  /**
   * Writes at the end of this turn of the event loop (setImmediate, not a microtask): frames that
   * arrived in the same poll share messages, so a busy session makes few big writes (and wakes its
   * peers less), while a lone keystroke goes out as soon as this turn ends.
   */
  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Writes each hop's waiting frames, in messages the peer takes. */
  private flush(): void {
    this.write(this.hops.client, false);
    this.write(this.hops.agent, false);
  }

  /** Writes a hop's waiting frames, with an Ack when nothing else carries it (a lone one only when `ackNow` or urgent; else after a delay). */
  private write(hop: Hop, ackNow: boolean): void {
    const socket = hop.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    const waiting = hop.outbox;
    hop.outbox = [];
    for (const message of streams.outgoing(hop.link, waiting, ackNow)) socket.send(message);
    hop.ackTimer.arm();
  }
}

export interface BrokerDeps {
  readonly db: Db;
  readonly agents: AgentHub;
  readonly audit: AuditTrail;
  readonly dataDir: string;
  readonly clock: { now(): number };
  readonly log: { warn(message: string): void; error(message: string, error?: unknown): void };
  /**
   * Several nodes: this node's own URL, named in session-open so the agent dials here whatever
   * endpoint it registered with (a load balancer), and how to ask the node holding an agent's
   * control channel to pass a session-open on. Undefined: one node.
   */
  readonly cluster?: {
    readonly advertiseUrl: () => string;
    readonly askElsewhere: (request: { instanceId: string; sessionId: string; url: string; resume: boolean }) => Promise<void>;
  };
}

export class SessionBroker {
  private readonly sessions = new Map<string, LiveSession>();
  private timer: NodeJS.Timeout | undefined;
  private settings: BrokerOptions;
  private closed = false;
  /** Revived sessions to end as soon as the broker starts. */
  private readonly endAtStart: { session: LiveSession; reason: string }[] = [];

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
    deps.agents.onAgentConnected = (instanceId) => {
      this.agentConnected(instanceId);
    };
  }

  /** Set by the server: a session ended, Terminated or Failed (the event bus makes an event of it: events.sessionEnded). */
  onEnded: (sessionId: string, status: EndStatus, reason: string) => void = () => undefined;
  /** Set by the server: a frame passed on and recorded (streamed to the log store when the preferences say so). */
  onFrame: (sessionId: string, entry: RecordEntry) => void = () => undefined;
  /** Set by the server: a session's record is complete and sealed (it goes to the log and object stores). */
  onSealed: (sessionId: string) => Promise<void> = () => Promise.resolve();

  now(): number {
    return this.deps.clock.now();
  }

  get(sessionId: string): LiveSession | undefined {
    return this.sessions.get(sessionId);
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Opens a session: its record, and the agent asked to dial this node. Undefined when its control channel is not here (one node). */
  async open(plan: SessionPlan): Promise<LiveSession | undefined> {
    if (this.deps.agents.get(plan.instanceId) === undefined && this.deps.cluster === undefined) return undefined;
    const session = await this.live(plan, { client: new data.Link(this.window), agent: new data.Link(this.window) }, undefined);
    this.sessions.set(plan.sessionId, session);
    if (!this.askAgent(session)) {
      this.sessions.delete(plan.sessionId);
      await session.record.close();
      return undefined;
    }
    return session;
  }

  private async live(plan: SessionPlan, links: Record<Side, data.Link>, continued: { head: Buffer; entries: number } | undefined): Promise<LiveSession> {
    // The record's callbacks need the session, which needs the record.
    const made: { session?: LiveSession } = {};
    const onDurable = (durable: Partial<Record<Direction, number>>): void => made.session?.recorded(durable);
    const record =
      this.settings.unrecorded === true
        ? RecordWriter.unrecorded(onDurable)
        : await RecordWriter.open(
            recordPath(this.deps.dataDir, plan.sessionId),
            continued ?? { head: GENESIS, entries: 0 },
            onDurable,
            (error) => {
              this.deps.log.error(`sessions: writing the record of ${plan.sessionId} failed; it ends`, error);
              if (made.session !== undefined) this.end(made.session, 'Failed', 'the session could not be recorded');
            },
            this.settings.recordDelayMs,
          );
    made.session = new LiveSession(plan, this, record, links, this.now());
    return made.session;
  }

  private askAgent(session: LiveSession): boolean {
    session.askedAt = this.now();
    const agent = this.deps.agents.get(session.plan.instanceId);
    // A session that has had its agent before asks only to resume: a restarted agent must not start a fresh program in it.
    const resume = session.hops.agent.joined;
    const { cluster } = this.deps;
    const url = cluster?.advertiseUrl();
    const message = { type: 'session-open' as const, sessionId: session.id, nonce: session.nonce, work: session.plan.work, ...(url === undefined ? {} : { endpointUrl: url }) };
    if (agent?.send(resume ? { ...message, resume: true } : message) === true) return true;
    if (cluster === undefined || url === undefined) return false;
    // Held by another node (or by none just now: the next ask finds where it went).
    cluster.askElsewhere({ instanceId: session.plan.instanceId, sessionId: session.id, url, resume }).catch((error: unknown) => {
      if (!this.closed) this.deps.log.error(`sessions: asking another node to open ${session.id} failed`, error);
    });
    return true;
  }

  /**
   * After a restart: the sessions the database shows open and whose record is here come back
   * from their records (the sides reconnect and resume); the others failed with the process.
   */
  async revive(nodeId: string): Promise<number> {
    let query = this.deps.db.selectFrom('sessions').selectAll().where('status', 'not in', ['Terminated', 'Failed']);
    // Several nodes: the others' sessions are theirs (their records are on their disks).
    if (this.deps.cluster !== undefined) query = query.where('node_id', '=', nodeId);
    const rows = await query.execute();
    let revived = 0;
    for (const row of rows) {
      const session = await this.reviveOne(row);
      if (session === undefined) continue;
      revived += 1;
      // Only a live status is written over: a TerminateSession through another node meanwhile stands.
      const { numUpdatedRows } = await this.deps.db.updateTable('sessions').set({ status: 'Disconnected', node_id: nodeId }).where('session_id', '=', row.session_id).where('node_id', '=', row.node_id).where('status', 'in', ['Connecting', 'Connected', 'Disconnected']).executeTakeFirst();
      const terminating = numUpdatedRows > 0n ? undefined : await this.deps.db.selectFrom('sessions').select('details').where('session_id', '=', row.session_id).where('status', '=', 'Terminating').executeTakeFirst();
      // Terminated through another node while this one was down: ended at start(), once the
      // server has set what an end sets off (the event, the delivery of the record).
      if (terminating !== undefined) this.endAtStart.push({ session, reason: terminating.details ?? 'terminated while its node was down' });
    }
    return revived;
  }

  /** One session open when the server stopped, back from its record or its two ends; undefined: it failed with the process. */
  private async reviveOne(row: SessionsTable): Promise<LiveSession | undefined> {
    // Taken over before the restart: its record here starts where its ends resumed then, not at
    // its start, so its links are rebuilt from its two ends again, as at the takeover.
    if (this.deps.cluster !== undefined && row.carriers !== null && row.agent_nonce !== null) return this.adopt(row, false);
    const read = row.agent_nonce === null ? undefined : await this.ownRecord(row.session_id, false);
    if (read === undefined || read.brokenAt !== undefined || read.entries.length === 0) {
      await this.recordEnd(row.session_id, 'Failed', read?.brokenAt !== undefined ? 'its record does not verify after a restart' : 'the Airlock server restarted during the session');
      return undefined;
    }
    // Its forwarded bytes are not in the record to send again: its links are rebuilt from its two ends, as at a takeover.
    if (read.entries.some((entry) => entry.elided !== undefined)) return this.adopt(row, false, read);
    const plan = planOfRow(row);
    const session = await this.live(plan, restoredLinks(read.entries, this.window), { head: read.head, entries: read.entries.length });
    const lastMode = read.entries.filter((entry) => entry.direction === 'output' && entry.type === data.FrameType.Mode).at(-1);
    if (lastMode !== undefined) session.inputHidden = data.hidesInput(data.readMode(lastMode.payload));
    const exit = read.entries.find((entry) => entry.direction === 'output' && entry.type === data.FrameType.Exit);
    if (exit !== undefined) {
      const { status, reason } = data.readExit(exit.payload);
      session.exited = { reason: reason === '' ? `the program exited with status ${status}` : reason, seq: exit.outSeq, at: this.now() };
    }
    this.sessions.set(plan.sessionId, session);
    return session;
  }

  /**
   * This node's record of a session, whole entries only: a crash mid-write left part of one,
   * never acknowledged (its sender has it), so it is cut off.
   */
  private async ownRecord(sessionId: string, moved: boolean): Promise<ReadRecord> {
    const path = recordPath(this.deps.dataDir, sessionId);
    const read = await readRecord(path);
    if (read.tornBytes > 0) await truncate(path, (await stat(path)).size - read.tornBytes);
    // A moved session this node carried before and handed over: its file continues that segment's chain.
    return moved && this.deps.cluster !== undefined ? segmentHere(this.deps.db, this.deps.dataDir, sessionId, this.deps.agents.nodeId) : read;
  }

  /**
   * Several nodes: takes over a session whose node died, once ResumeSession has moved it here
   * (one conditional update of its node). Nothing of it is here but its plan: its two ends
   * rebuild the links when both have said where they stand (`LiveSession.awaitEnds`), and its
   * record goes on in a segment on this node's disk (after any earlier one of it here).
   */
  async adopt(row: SessionsTable, askNow = true, ownRecord?: ReadRecord): Promise<LiveSession> {
    const open = this.sessions.get(row.session_id);
    if (open !== undefined) return open;
    const read = ownRecord ?? (await this.ownRecord(row.session_id, true));
    if (read.brokenAt !== undefined) throw new Error(`the record of ${row.session_id} on this node does not verify from entry ${read.brokenAt}`);
    const fresh = (): data.Link => new data.Link(this.window);
    const session = await this.live(planOfRow(row), { client: fresh(), agent: fresh() }, { head: read.head, entries: read.entries.length });
    const raced = this.sessions.get(row.session_id);
    if (raced !== undefined) {
      await session.record.close();
      return raced;
    }
    session.awaitEnds(read.entries);
    this.sessions.set(row.session_id, session);
    // At a restart the agent is asked when its control channel is back (agentConnected) or at the next tick.
    if (askNow) this.askAgent(session);
    return session;
  }

  /** An agent's control channel came (back): it is asked again to open this node's sessions that have no data channel from it. */
  agentConnected(instanceId: string): void {
    for (const session of this.sessions.values()) {
      if (session.plan.instanceId === instanceId && !session.agentHere) this.askingAgent(session);
    }
  }

  private askingAgent(session: LiveSession): void {
    this.askAgentIfOurs(session).catch((error: unknown) => {
      if (!this.closed) this.deps.log.error(`sessions: asking the agent of ${session.id} to dial failed`, error);
    });
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
    // The record says it ended before the sides hear so: whoever they tell finds it ended.
    this.recordEnd(session.id, status, reason)
      .catch((error: unknown) => {
        if (!this.closed) this.deps.log.error(`sessions: recording the end of ${session.id} failed`, error);
        return true;
      })
      .then((ours) => {
        if (!ours) return this.letGo(session);
        session.close(reason);
        this.deps.agents.get(session.plan.instanceId)?.send({ type: 'session-close', sessionId: session.id, reason });
        // Rules may notify on a session's end (the Session Manager Session State-change Notification).
        this.onEnded(session.id, status, reason);
        return this.seal(session).then(() => this.onSealed(session.id));
      })
      .catch((error: unknown) => {
        if (!this.closed) this.deps.log.error(`sessions: sealing or delivering the record of ${session.id} failed`, error);
      });
  }

  /** False: another node carries the session now (it took it over while this one was thought dead), so nothing was written. */
  private async recordEnd(sessionId: string, status: EndStatus, reason: string): Promise<boolean> {
    const result = await this.ours(this.deps.db.updateTable('sessions').set({ status, details: reason, ended_at: this.now(), token_hash: null, token_expires_at: null }).where('session_id', '=', sessionId)).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Several nodes: a write about a session goes through only while this node carries it. */
  private ours<Query extends { where(column: 'node_id', operator: '=', value: string): Query }>(query: Query): Query {
    return this.deps.cluster === undefined ? query : query.where('node_id', '=', this.deps.agents.nodeId);
  }

  /**
   * Several nodes: another node took the session over (this one's heartbeat had lapsed). This
   * node stops carrying it, telling neither end it ended; its record so far stays on this disk.
   */
  private async letGo(session: LiveSession): Promise<void> {
    session.ended = true;
    this.sessions.delete(session.id);
    this.deps.log.warn(`sessions: ${session.id} is carried by another node now; this node lets it go (its record so far stays in ${recordPath(this.deps.dataDir, session.id)})`);
    session.disconnect('the session moved to another node');
    await session.record.settled();
    await session.record.close();
    // What it recorded of the session is a segment of its record now: sealed, handed over, and
    // delivered with the others once the session has ended.
    await handOverSegment(this.segmentDeps(), session.id);
    await this.onSealed(session.id);
  }

  /** Asks the agent to dial, unless (several nodes) another node has taken the session over meanwhile. */
  private async askAgentIfOurs(session: LiveSession): Promise<void> {
    if (this.deps.cluster !== undefined) {
      session.askedAt = this.now();
      const row = await this.deps.db.selectFrom('sessions').select('node_id').where('session_id', '=', session.id).executeTakeFirst();
      if (session.ended) return;
      if (row !== undefined && row.node_id !== this.deps.agents.nodeId) {
        await this.letGo(session);
        return;
      }
    }
    this.askAgent(session);
  }

  /** The record, complete, and its chain head in the audit trail: a later edit of either shows. */
  private async seal(session: LiveSession): Promise<void> {
    await session.record.settled();
    const head = session.record.chainHead.toString('hex');
    await session.record.close();
    // A session that moved between nodes: this node's segment is sealed and joins the others.
    if (await this.moved(session.id)) {
      await handOverSegment(this.segmentDeps(), session.id);
      return;
    }
    await sealRecord(this.deps.audit, session.id, { chainHead: head, entries: session.record.entryCount }, this.now());
  }

  private async moved(sessionId: string): Promise<boolean> {
    if (this.deps.cluster === undefined) return false;
    const row = await this.deps.db.selectFrom('sessions').select('carriers').where('session_id', '=', sessionId).executeTakeFirst();
    return row?.carriers != null;
  }

  segmentDeps(): SegmentDeps {
    return { db: this.deps.db, audit: this.deps.audit, dataDir: this.deps.dataDir, node: this.deps.agents.nodeId, now: () => this.now() };
  }

  private async setStatus(session: LiveSession, status: 'Connected' | 'Disconnected'): Promise<void> {
    try {
      await this.ours(this.deps.db.updateTable('sessions').set({ status }).where('session_id', '=', session.id).where('status', 'in', ['Connecting', 'Connected', 'Disconnected'])).execute();
    } catch (error) {
      if (!this.closed) this.deps.log.error(`sessions: recording that ${session.id} is ${status} failed`, error);
    }
  }

  start(): void {
    if (this.timer !== undefined || this.closed) return;
    for (const { session, reason } of this.endAtStart.splice(0)) this.end(session, 'Terminated', reason);
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
      session.refuseOverdueAhead(now, this.settings.aheadWaitMs);
      const { plan } = session;
      const agentAway = session.hops.agent.awaySince;
      if (session.exited !== undefined) {
        if (now - session.exited.at >= plan.idleTimeoutMs) this.end(session, 'Terminated', session.exited.reason);
      } else if (plan.maxDurationMs !== null && now - plan.startedAt >= plan.maxDurationMs) {
        this.end(session, 'Terminated', `the session reached its maximum duration of ${minutes(plan.maxDurationMs)}`);
      } else if (now - session.lastActivityAt >= plan.idleTimeoutMs) {
        this.end(session, 'Terminated', `the session was idle for ${minutes(plan.idleTimeoutMs)}`);
      } else if (agentAway !== undefined && !session.hops.agent.joined && now - agentAway >= this.settings.agentDialMs) {
        this.end(session, 'Failed', `the agent on ${plan.instanceId} did not open the session within ${Math.round(this.settings.agentDialMs / 1000)} seconds`);
      } else if (agentAway !== undefined && now - agentAway >= this.settings.agentGraceMs) {
        this.end(session, 'Failed', `the agent on ${plan.instanceId} went away and did not come back within ${Math.round(this.settings.agentGraceMs / 1000)} seconds`);
      } else if (agentAway !== undefined && this.deps.cluster !== undefined && now - session.askedAt >= ASK_AGAIN_MS) {
        this.askingAgent(session);
      }
    }
  }

  /**
   * Shuts down, leaving the sessions open: their records are complete on disk, so the next start
   * revives them and the sides resume, as after a crash.
   */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.closed = true;
    const open = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(open.map((session) => session.record.close()));
  }
}

/** What a session's row says it runs (a revived or taken-over session's plan). */
function planOfRow(row: SessionsTable): SessionPlan {
  return {
    sessionId: row.session_id,
    instanceId: row.target,
    work: JSON.parse(row.work) as control.SessionWork,
    startedAt: row.started_at,
    idleTimeoutMs: row.idle_timeout_ms,
    maxDurationMs: row.max_duration_ms,
    nonce: row.agent_nonce ?? '',
  };
}

function minutes(ms: number): string {
  const value = Math.round(ms / 60_000);
  return value === 1 ? '1 minute' : `${value} minutes`;
}

/**
 * The two links of a session as its record left them: each side's frames taken (the highest
 * number recorded from it), the next number towards it, and the frames towards it that it may
 * not have had (the last window's worth; it says at reconnect what it has). Withheld input is not
 * in the record: an agent that had not taken it gets it empty, and the password is typed again.
 */
function restoredLinks(entries: readonly RecordEntry[], window: number): Record<Side, data.Link> {
  const link = (from: Direction): data.Link => {
    const taken = entries.filter((entry) => entry.direction === from);
    const towards = entries.filter((entry) => entry.direction !== from);
    const unacked: data.Frame[] = [];
    let bytes = 0;
    for (let index = towards.length - 1; index >= 0 && bytes <= window + data.MAX_PAYLOAD; index--) {
      const entry = towards[index];
      if (entry === undefined) break;
      unacked.unshift({ type: entry.type, flags: entry.flags, stream: entry.stream, seq: entry.outSeq, ack: 0, payload: entry.payload });
      bytes += entry.payload.length;
    }
    return data.Link.restore({ window, received: taken.reduce((max, entry) => Math.max(max, entry.inSeq), 0), nextSeq: towards.reduce((max, entry) => Math.max(max, entry.outSeq), 0) + 1, unacked });
  };
  return { client: link('input'), agent: link('output') };
}
