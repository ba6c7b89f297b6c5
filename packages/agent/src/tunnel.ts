/**
 * The control channel: one outbound WebSocket to `{endpoint}/agent/control` (contract in
 * @airlock/protocol's control.ts). The server sends a challenge; the agent answers with hello,
 * signed with its registration key; after welcome it sends heartbeats at the server's interval.
 * Any drop is followed by a reconnect after a backoff with full jitter (reset by a welcome);
 * close 4403 or a 'deregistered' message ends the channel for good.
 *
 * The agent talks only to the server it registered with: the URL comes from the registration,
 * redirects are not followed, and under TLS the pinned CA is the only one trusted.
 */
import type { KeyObject } from 'node:crypto';
import { control } from '@airlock/protocol';
import { WebSocket, type RawData } from 'ws';
import { Backoff, systemClock, type Clock } from './backoff.js';
import { controlUrl } from './endpoint.js';
import type { Inventory } from './inventory.js';
import { signChallenge } from './keys.js';
import { messageOf, type Logger } from './log.js';
import { describeNetworkError, tlsOptions } from './tls.js';

export type ChannelOutcome = 'deregistered' | 'stopped';

/** What happened, for tests and diagnostics (the log says the same for people). */
export type ChannelEvent =
  | { readonly type: 'connecting'; readonly url: string }
  | { readonly type: 'welcome'; readonly heartbeatIntervalMs: number }
  | { readonly type: 'heartbeat'; readonly withInventory: boolean }
  | { readonly type: 'closed'; readonly code: number; readonly reason: string }
  | { readonly type: 'retry'; readonly delayMs: number; readonly attempt: number }
  | { readonly type: 'end'; readonly outcome: ChannelOutcome };

export interface ControlChannelOptions {
  /** The registered endpoint, normalized (see endpoint.ts). */
  readonly endpointUrl: string;
  readonly instanceId: string;
  readonly privateKey: KeyObject;
  /** The pinned CA; undefined trusts the system's CAs (https without --ca-file) or nothing (http). */
  readonly caPem?: string | undefined;
  readonly agentVersion: string;
  readonly capabilities?: readonly string[];
  /** Gathers the inventory; called before each connection and every inventoryIntervalMs. */
  readonly inventory: () => Promise<Inventory>;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Uniform in [0, 1): the jitter of the reconnect delay. */
  readonly random?: () => number;
  readonly backoffBaseMs?: number;
  readonly backoffCapMs?: number;
  /** From starting to connect until welcome; default 30 s. */
  readonly handshakeTimeoutMs?: number;
  /** How often a heartbeat also carries the inventory; default 5 min. */
  readonly inventoryIntervalMs?: number;
  /** The smallest heartbeat interval the agent accepts from a server; default 1 s. */
  readonly minHeartbeatIntervalMs?: number;
  readonly onEvent?: (event: ChannelEvent) => void;
  /** Where session-open and session-close go (session.ts's SessionManager); without it sessions are refused. */
  readonly sessions?: SessionHandler;
}

/** What the control channel hands sessions to. */
export interface SessionHandler {
  open(message: Extract<control.ServerMessage, { type: 'session-open' }>): void;
  close(sessionId: string, reason: string): void;
}

export const CAPABILITIES = ['shell', 'port'] as const;
const MAX_HEARTBEAT_INTERVAL_MS = 3_600_000;
/** A server that answers nothing for this many heartbeat intervals (plus a grace) is presumed gone. */
const MISSED_HEARTBEATS = 3;
const SILENCE_GRACE_MS = 1_000;
const CLOSE_WAIT_MS = 3_000;
const MAX_FRAME = 1024 * 1024;

interface Connection {
  readonly socket: WebSocket;
  readonly inventory: Inventory;
  phase: 'challenge' | 'welcome' | 'ready';
  lastReceivedAt: number;
  inventorySentAt: number;
  heartbeatIntervalMs: number;
  /** The handshake timeout, then the next heartbeat. */
  timer: unknown;
  closeTimer: unknown;
  error: Error | undefined;
}

export class ControlChannel {
  readonly #options: ControlChannelOptions;
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  readonly #url: string;
  readonly #done: Promise<ChannelOutcome>;
  #resolve: (outcome: ChannelOutcome) => void = () => undefined;
  #connection: Connection | undefined;
  #retryTimer: unknown;
  #outcome: ChannelOutcome | undefined;
  #started = false;
  #finished = false;
  /** Session reports waiting for a welcomed connection. */
  #reports: Extract<control.AgentMessage, { type: 'session-failed' }>[] = [];

  constructor(options: ControlChannelOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
    this.#url = controlUrl(options.endpointUrl);
    this.#backoff = new Backoff({
      baseMs: options.backoffBaseMs ?? 1_000,
      // At most 30 s: a fleet whose node died is back on the others within that (full jitter spreads it).
      capMs: options.backoffCapMs ?? 30_000,
      ...(options.random === undefined ? {} : { random: options.random }),
    });
    this.#done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Connects and keeps connecting until stop() or deregistration; resolves with which. */
  run(): Promise<ChannelOutcome> {
    if (!this.#started) {
      this.#started = true;
      void this.#connect();
    }
    return this.#done;
  }

  /** Closes the socket cleanly (1000) and ends run(). */
  stop(): void {
    if (this.#outcome === undefined) this.#end('stopped');
  }

  get connected(): boolean {
    return this.#connection?.phase === 'ready';
  }

  // Connecting ---------------------------------------------------------------------------------

  async #connect(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#outcome !== undefined) return;
    let inventory: Inventory;
    try {
      inventory = await this.#options.inventory();
    } catch (error) {
      this.#log.warn(`Cannot gather the inventory: ${messageOf(error)}`);
      this.#scheduleRetry();
      return;
    }
    // stop() may have been called while the inventory was gathered.
    if (this.#ended()) return;
    this.#emit({ type: 'connecting', url: this.#url });
    const handshakeTimeoutMs = this.#options.handshakeTimeoutMs ?? 30_000;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.#url, {
        ...tlsOptions(this.#options.caPem),
        handshakeTimeout: handshakeTimeoutMs,
        maxPayload: MAX_FRAME,
        followRedirects: false,
        perMessageDeflate: false,
        headers: { 'user-agent': `airlock-agent/${this.#options.agentVersion}` },
      });
    } catch (error) {
      this.#log.error(`Cannot open ${this.#url}: ${messageOf(error)}`);
      this.#scheduleRetry();
      return;
    }
    const now = this.#clock.now();
    const connection: Connection = {
      socket,
      inventory,
      phase: 'challenge',
      lastReceivedAt: now,
      inventorySentAt: now,
      heartbeatIntervalMs: 0,
      timer: undefined,
      closeTimer: undefined,
      error: undefined,
    };
    this.#connection = connection;
    connection.timer = this.#clock.setTimeout(() => {
      this.#log.warn(`No welcome from ${this.#options.endpointUrl} within ${seconds(handshakeTimeoutMs)}; dropping the connection.`);
      socket.terminate();
    }, handshakeTimeoutMs);
    socket.on('message', (data, isBinary) => {
      this.#onMessage(connection, data, isBinary);
    });
    socket.on('error', (error) => {
      connection.error = error;
    });
    socket.on('close', (code, reason) => {
      this.#onClose(connection, code, reason.toString('utf8'));
    });
  }

  #onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (connection !== this.#connection || this.#outcome !== undefined) return;
    if (isBinary) {
      this.#protocolError(connection, 'a binary frame');
      return;
    }
    const message = control.parseServerMessage(textOf(data));
    if (message === undefined) {
      this.#protocolError(connection, 'a frame that is not a control message');
      return;
    }
    connection.lastReceivedAt = this.#clock.now();
    switch (message.type) {
      case 'challenge': {
        if (connection.phase !== 'challenge') {
          this.#protocolError(connection, 'a second challenge');
          return;
        }
        connection.phase = 'welcome';
        const { instanceId, privateKey, agentVersion } = this.#options;
        this.#send(connection, {
          type: 'hello',
          instanceId,
          signature: signChallenge(privateKey, message.nonce, instanceId),
          protocolVersion: control.CONTROL_PROTOCOL_VERSION,
          agentVersion,
          capabilities: this.#options.capabilities ?? CAPABILITIES,
          inventory: connection.inventory,
        });
        return;
      }
      case 'welcome': {
        if (connection.phase !== 'welcome') {
          this.#protocolError(connection, 'a welcome before the hello');
          return;
        }
        connection.phase = 'ready';
        this.#clock.clearTimeout(connection.timer);
        const min = this.#options.minHeartbeatIntervalMs ?? 1_000;
        connection.heartbeatIntervalMs = Math.min(Math.max(message.heartbeatIntervalMs, min), MAX_HEARTBEAT_INTERVAL_MS);
        this.#backoff.reset();
        this.#log.info(`Connected to ${this.#options.endpointUrl} as ${this.#options.instanceId}; heartbeat every ${seconds(connection.heartbeatIntervalMs)}.`);
        this.#emit({ type: 'welcome', heartbeatIntervalMs: connection.heartbeatIntervalMs });
        for (const report of this.#reports.splice(0)) this.#send(connection, report);
        this.#scheduleHeartbeat(connection);
        return;
      }
      case 'heartbeat-ack':
        if (connection.phase !== 'ready') this.#protocolError(connection, 'a heartbeat-ack before the welcome');
        return;
      case 'deregistered':
        this.#log.warn(`${this.#options.endpointUrl} says ${this.#options.instanceId} was deregistered.`);
        this.#end('deregistered');
        return;
      case 'session-open':
        if (connection.phase !== 'ready') {
          this.#protocolError(connection, 'a session-open before the welcome');
          return;
        }
        this.#log.info(`Session ${message.sessionId} opened (${message.work.kind}).`);
        if (this.#options.sessions === undefined) {
          this.report({ type: 'session-failed', sessionId: message.sessionId, reason: 'this agent does not run sessions' });
          return;
        }
        this.#options.sessions.open(message);
        return;
      case 'session-close':
        if (connection.phase !== 'ready') {
          this.#protocolError(connection, 'a session-close before the welcome');
          return;
        }
        this.#options.sessions?.close(message.sessionId, message.reason);
        return;
    }
  }

  /**
   * Sends a message about a session (session-failed) on the control channel; while it is down,
   * the message waits for the next welcome.
   */
  report(message: Extract<control.AgentMessage, { type: 'session-failed' }>): void {
    const connection = this.#connection;
    if (connection?.phase === 'ready' && connection.socket.readyState === WebSocket.OPEN) {
      this.#send(connection, message);
      return;
    }
    if (this.#outcome === undefined) this.#reports.push(message);
  }

  #onClose(connection: Connection, code: number, reason: string): void {
    this.#clock.clearTimeout(connection.timer);
    this.#clock.clearTimeout(connection.closeTimer);
    if (this.#connection === connection) this.#connection = undefined;
    this.#emit({ type: 'closed', code, reason });
    if (this.#outcome !== undefined) {
      this.#finish();
      return;
    }
    const said = reason === '' ? `close ${code}` : `close ${code}: ${reason}`;
    switch (code) {
      case control.AgentCloseCode.Deregistered:
        this.#log.warn(`${this.#options.endpointUrl} says ${this.#options.instanceId} was deregistered (${said}).`);
        this.#outcome = 'deregistered';
        this.#finish();
        return;
      case control.AgentCloseCode.Unauthorized:
        this.#log.error(
          `${this.#options.endpointUrl} refused this agent's key (${said}): it does not know ${this.#options.instanceId}, or the key was revoked. ` +
            'Retrying; if the instance was deregistered or the server lost its data, register again with --force.',
        );
        break;
      case control.AgentCloseCode.Replaced:
        // Retrying at once would only take the connection back from the other agent, and so on.
        this.#log.warn(`Another connection for ${this.#options.instanceId} took over (${said}): is a second agent running with this state directory? Backing off.`);
        this.#backoff.toCap();
        break;
      case control.AgentCloseCode.Malformed:
        this.#log.warn(`${this.#options.endpointUrl} found a frame of this agent malformed (${said}).`);
        break;
      default:
        if (connection.phase === 'ready') {
          this.#log.warn(`Lost the control channel to ${this.#options.endpointUrl} (${connection.error === undefined ? said : messageOf(connection.error)}).`);
        } else {
          const cause = connection.error === undefined ? said : describeNetworkError(connection.error, this.#options.caPem !== undefined);
          this.#log.warn(`Cannot connect to ${this.#url}: ${cause}.`);
        }
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#outcome !== undefined) {
      this.#finish();
      return;
    }
    const delayMs = this.#backoff.next();
    this.#log.info(`Reconnecting in ${seconds(delayMs)} (attempt ${this.#backoff.attempt}).`);
    this.#emit({ type: 'retry', delayMs, attempt: this.#backoff.attempt });
    this.#retryTimer = this.#clock.setTimeout(() => void this.#connect(), delayMs);
  }

  // Heartbeats ---------------------------------------------------------------------------------

  #scheduleHeartbeat(connection: Connection): void {
    connection.timer = this.#clock.setTimeout(() => void this.#heartbeat(connection), connection.heartbeatIntervalMs);
  }

  async #heartbeat(connection: Connection): Promise<void> {
    if (!this.#isCurrent(connection)) return;
    const now = this.#clock.now();
    const silence = now - connection.lastReceivedAt;
    if (silence > MISSED_HEARTBEATS * connection.heartbeatIntervalMs + SILENCE_GRACE_MS) {
      this.#log.warn(`No word from ${this.#options.endpointUrl} for ${seconds(silence)}; dropping the connection.`);
      connection.socket.terminate();
      return;
    }
    let inventory: Inventory | undefined;
    if (now - connection.inventorySentAt >= (this.#options.inventoryIntervalMs ?? 300_000)) {
      connection.inventorySentAt = now;
      try {
        inventory = await this.#options.inventory();
      } catch (error) {
        this.#log.warn(`Cannot gather the inventory: ${messageOf(error)}`);
      }
      // The connection may have gone while the inventory was gathered.
      if (!this.#isCurrent(connection)) return;
    }
    this.#send(connection, inventory === undefined ? { type: 'heartbeat' } : { type: 'heartbeat', inventory });
    this.#emit({ type: 'heartbeat', withInventory: inventory !== undefined });
    this.#scheduleHeartbeat(connection);
  }

  // Ending -------------------------------------------------------------------------------------

  #protocolError(connection: Connection, what: string): void {
    this.#log.warn(`${this.#options.endpointUrl} sent ${what}; closing this connection (${control.AgentCloseCode.Malformed}).`);
    this.#closeSocket(connection, control.AgentCloseCode.Malformed, 'malformed frame');
  }

  #end(outcome: ChannelOutcome): void {
    this.#outcome = outcome;
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const connection = this.#connection;
    if (connection === undefined) {
      this.#finish();
      return;
    }
    this.#clock.clearTimeout(connection.timer);
    this.#closeSocket(connection, 1000, outcome === 'stopped' ? 'agent stopping' : 'deregistered');
  }

  /** A clean close, or a hard one if the peer does not answer it in time. */
  #closeSocket(connection: Connection, code: number, reason: string): void {
    if (connection.socket.readyState === WebSocket.OPEN) {
      connection.socket.close(code, reason);
      connection.closeTimer = this.#clock.setTimeout(() => {
        connection.socket.terminate();
      }, CLOSE_WAIT_MS);
    } else {
      connection.socket.terminate();
    }
  }

  #ended(): boolean {
    return this.#outcome !== undefined;
  }

  #isCurrent(connection: Connection): boolean {
    return connection === this.#connection && connection.socket.readyState === WebSocket.OPEN && !this.#ended();
  }

  #finish(): void {
    if (this.#finished || this.#outcome === undefined) return;
    this.#finished = true;
    this.#emit({ type: 'end', outcome: this.#outcome });
    this.#resolve(this.#outcome);
  }

  #send(connection: Connection, message: control.AgentMessage): void {
    connection.socket.send(JSON.stringify(message), (error) => {
      if (error !== undefined) connection.error ??= error;
    });
  }

  #emit(event: ChannelEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // An observer's failure is not the channel's.
    }
  }
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
