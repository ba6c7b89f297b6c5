/**
 * The agents connected to this node: one live control channel per instance, held in memory.
 * Heartbeats touch only memory; what the database needs (the last ping time) is written in
 * batches every few seconds, so a heartbeat costs no write. The same tick looks for changes made
 * through other nodes: an instance deregistered there, or an agent that reconnected there.
 *
 * Ping status (AWS's PingStatus) is computed, never stored: Inactive once deregistered; Online
 * while a control channel is open and the last heartbeat is at most three intervals old (by the
 * services' clock, so tests can move it); ConnectionLost otherwise.
 *
 * Several nodes: the row names the node holding the control channel (connected_node) with a
 * lease (lease_expires_at) that the holder renews at its ticks. Another node counts the instance
 * as connected only while the lease runs: a node that dies stops renewing, so its instances show
 * ConnectionLost once their leases run out, and any node may take them when their agents return
 * (a connection always takes the row; the previous holder's sweep drops its own).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { control, type fleet } from '@airlock/protocol';
import { sql } from 'kysely';
import type { AuditTrail } from '../audit/trail.js';
import { ANONYMOUS } from '../identity/principal.js';
import type { Db } from '../storage/db.js';
import type { InstancesTable } from '../storage/schema.js';
import { NODE_TTL_MS } from './nodes.js';

export interface FleetOptions {
  /** What the welcome tells agents; 30 s. */
  readonly heartbeatIntervalMs: number;
  /** How long a new connection has to send its hello; 10 s. */
  readonly helloTimeoutMs: number;
  /** How often last-ping times are written and other nodes' changes are looked at (real time); 5 s. */
  readonly flushIntervalMs: number;
  /** How long a hold on an instance is good without renewal (services' clock); renewed when a third has passed. 30 s. */
  readonly leaseMs: number;
  /** Connections on this node that have not completed hello; one more is closed with 4429. 1,000. */
  readonly maxPendingConnections: number;
  /** The same, from one source address (an IPv6 address counts by its /64); 100. */
  readonly maxPendingPerSource: number;
}

export const DEFAULT_FLEET_OPTIONS: FleetOptions = {
  heartbeatIntervalMs: 30_000,
  helloTimeoutMs: 10_000,
  flushIntervalMs: 5_000,
  leaseMs: 30_000,
  maxPendingConnections: 1_000,
  maxPendingPerSource: 100,
};

/** How often, at most, refusals for too many pending connections are logged (they are not audited one by one). */
const PENDING_WARNING_INTERVAL_MS = 60_000;
/** Several nodes: how often a node looks for leases left by a dead node. */
const LAPSED_CHECK_MS = 10_000;

/** Heartbeats an agent may miss before it is ConnectionLost. */
export const MISSED_HEARTBEATS = 3;
/** Largest control frame accepted (ws closes the connection with 1009 above it). */
export const CONTROL_MAX_FRAME = 64 * 1024;

/** What the hub needs from the server, and no more (the services object depends on the hub). */
export interface HubDeps {
  readonly db: Db;
  readonly clock: { now(): number };
  readonly audit: AuditTrail;
  readonly log: { warn(message: string): void; error(message: string, error?: unknown): void };
}

/** One open, authenticated control channel. */
export interface LiveAgent {
  readonly instanceId: string;
  readonly connectionId: string;
  readonly sourceIp: string;
  readonly connectedAt: number;
  agentVersion: string;
  inventory: control.Inventory;
  /** Services' clock: the last hello or heartbeat. */
  lastPingAt: number;
  /** performance.now() of the last frame: a dead TCP connection is dropped on real time. */
  lastFrameAt: number;
  /** The last ping is not yet in the database. */
  pingDirty: boolean;
  inventoryDirty: boolean;
  /** Sends `message` (if any), then closes with `code`. */
  close(code: number, reason: string, message?: control.ServerMessage): void;
  /** Sends a message on the open channel; false when it is no longer open. */
  send(message: control.ServerMessage): boolean;
}

/** What the sessions of this node hear from agents' control channels. */
export type SessionFailedListener = (instanceId: string, sessionId: string, reason: string) => void;

export interface ConnectFacts {
  readonly platformType: string;
  readonly ipAddress: string | null;
}

/** What a connection attempt left in the audit trail: AWS-style names, the instance in the parameters. */
export interface AgentEvent {
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly parameters: Record<string, unknown>;
  readonly response?: Record<string, unknown>;
  readonly error?: { readonly code: string; readonly message: string };
}

type PresenceRow = Pick<InstancesTable, 'instance_id' | 'deregistered_at' | 'last_ping_at' | 'connected_node' | 'lease_expires_at'>;

/**
 * What pending connections are counted by: the IPv4 address (also when IPv4-mapped), or the
 * first 64 bits of an IPv6 address, since one host commonly holds a whole /64.
 */
export function sourceKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]?.split('::') ?? [];
  const groups = head === '' ? [] : head.split(':');
  if (tail !== undefined) {
    const rest = tail === '' ? [] : tail.split(':');
    groups.push(...Array<string>(Math.max(0, 8 - groups.length - rest.length)).fill('0'), ...rest);
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Lets timers and I/O (heartbeats) run between the statements of a long write. */
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

/** WebSocket close reasons are at most 123 bytes. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= 123 ? text : `${bytes.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '')}...`;
}

export class AgentHub {
  /**
   * This node: its --node-name, else a name for this process alone. Rows naming it with no live
   * connection here are stale (a restart).
   */
  readonly nodeId: string;
  private readonly agents = new Map<string, LiveAgent>();
  private settings: FleetOptions;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private lastSweep: number;
  private closed = false;
  private closing = false;
  /** Connections that have not completed hello: on the node, and by sourceKey(). */
  private pendingCount = 0;
  private readonly pendingBySource = new Map<string, number>();
  private refusedPending = 0;
  private lastPendingWarning = -Infinity;
  /** When the leases of this node's connections were last renewed (services' clock). */
  private leasesRenewedAt = -Infinity;
  /** Several nodes (a --node-name): leases are looked over for dead holders, every LAPSED_CHECK_MS. */
  private readonly clustered: boolean;
  private lapsedCheckedAt = -Infinity;

  constructor(
    private readonly deps: HubDeps,
    options: Partial<FleetOptions> = {},
    nodeName?: string,
  ) {
    this.nodeId = nodeName ?? randomUUID();
    this.clustered = nodeName !== undefined;
    this.settings = { ...DEFAULT_FLEET_OPTIONS, ...options };
    this.lastSweep = deps.clock.now();
  }

  get options(): FleetOptions {
    return this.settings;
  }

  /** Changes the options; new connections (and the next tick) use them. For tests and tuning. */
  configure(options: Partial<FleetOptions>): void {
    this.settings = { ...this.settings, ...options };
    if (this.timer !== undefined) {
      this.stopTimer();
      this.start();
    }
  }

  now(): number {
    return this.deps.clock.now();
  }

  get size(): number {
    return this.agents.size;
  }

  /** Connections on this node that have not completed hello. */
  get pending(): number {
    return this.pendingCount;
  }

  /**
   * Counts a new connection from `source` (a sourceKey) as pending until settle(); false, and not
   * counted, when the node or that source already has as many as allowed.
   */
  admit(source: string): boolean {
    const fromSource = this.pendingBySource.get(source) ?? 0;
    if (this.pendingCount >= this.settings.maxPendingConnections || fromSource >= this.settings.maxPendingPerSource) {
      this.refusedPending++;
      const now = performance.now();
      if (now - this.lastPendingWarning >= PENDING_WARNING_INTERVAL_MS) {
        this.lastPendingWarning = now;
        this.deps.log.warn(
          `fleet: ${this.refusedPending} control connection${this.refusedPending === 1 ? '' : 's'} refused (4429): too many waiting to complete hello ` +
            `(${this.pendingCount} on this node, at most ${this.settings.maxPendingConnections}; ${fromSource} from ${source}, at most ${this.settings.maxPendingPerSource})`,
        );
        this.refusedPending = 0;
      }
      return false;
    }
    this.pendingCount++;
    this.pendingBySource.set(source, fromSource + 1);
    return true;
  }

  /** An admitted connection completed hello, or closed: it is no longer pending. Once per admit(). */
  settle(source: string): void {
    this.pendingCount = Math.max(0, this.pendingCount - 1);
    const fromSource = (this.pendingBySource.get(source) ?? 0) - 1;
    if (fromSource > 0) this.pendingBySource.set(source, fromSource);
    else this.pendingBySource.delete(source);
  }

  get(instanceId: string): LiveAgent | undefined {
    return this.agents.get(instanceId);
  }

  start(): void {
    if (this.closed || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      void this.tick();
    }, this.settings.flushIntervalMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One flush and sweep; never two at once. */
  tick(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        await this.flush();
        await this.renewLeases();
        await this.clearLapsedLeases();
        await this.sweep();
        this.dropSilent();
      } catch (error) {
        if (!this.closed) this.deps.log.error('fleet: writing agent state failed', error);
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  /**
   * Makes `agent` the instance's connection (an older one here is closed with 4409) and records
   * it. False when the instance was deregistered meanwhile: the caller cuts the agent off.
   */
  async connect(agent: LiveAgent, facts: ConnectFacts): Promise<boolean> {
    const previous = this.agents.get(agent.instanceId);
    this.agents.set(agent.instanceId, agent);
    if (previous !== undefined && previous !== agent) {
      previous.close(control.AgentCloseCode.Replaced, 'replaced by a newer connection of the same instance');
    }
    const { inventory } = agent;
    const result = await this.deps.db
      .updateTable('instances')
      .set({
        agent_version: agent.agentVersion,
        platform_type: facts.platformType,
        platform_name: inventory.platformName,
        platform_version: inventory.platformVersion,
        computer_name: inventory.hostname,
        ip_address: facts.ipAddress,
        inventory: JSON.stringify(inventory),
        last_ping_at: agent.lastPingAt,
        connected_node: this.nodeId,
        connection_id: agent.connectionId,
        connected_at: agent.connectedAt,
        lease_expires_at: agent.connectedAt + this.settings.leaseMs,
      })
      .where('instance_id', '=', agent.instanceId)
      .where('deregistered_at', 'is', null)
      .executeTakeFirst();
    agent.pingDirty = false;
    agent.inventoryDirty = false;
    return result.numUpdatedRows > 0n;
  }

  /** A hello or heartbeat: memory only; the database catches up at the next tick. */
  heartbeat(agent: LiveAgent, inventory: control.Inventory | undefined): void {
    agent.lastPingAt = this.now();
    agent.lastFrameAt = performance.now();
    agent.pingDirty = true;
    if (inventory !== undefined && JSON.stringify(inventory) !== JSON.stringify(agent.inventory)) {
      agent.inventory = inventory;
      agent.inventoryDirty = true;
    }
  }

  /** Set by the server (the event bus): an instance's control channel closed, or its node died, and no other took its place. */
  onConnectionLost: (instanceId: string, reason: string) => void = () => undefined;

  /** The connection closed: forget it (unless a newer one took its place) and record when it was last seen. */
  async release(agent: LiveAgent): Promise<void> {
    if (this.agents.get(agent.instanceId) === agent) {
      this.agents.delete(agent.instanceId);
      // Not replaced, cut off or shut down: the instance lost its connection.
      if (!this.closing) this.onConnectionLost(agent.instanceId, 'its control channel closed');
    }
    try {
      await this.deps.db
        .updateTable('instances')
        .set({ connected_node: null, connection_id: null, lease_expires_at: null, last_ping_at: agent.lastPingAt })
        .where('instance_id', '=', agent.instanceId)
        .where('connection_id', '=', agent.connectionId)
        .execute();
    } catch (error) {
      if (!this.closed) this.deps.log.error(`fleet: recording that ${agent.instanceId} disconnected failed`, error);
    }
  }

  /** Set by the session broker: an agent could not start a session's program. */
  onSessionFailed: SessionFailedListener = () => undefined;
  /** Set by the session broker: an agent's control channel is up (again). */
  onAgentConnected: (instanceId: string) => void = () => undefined;

  /** Deregistration: the agent is told, then cut off (4403). */
  cutOff(instanceId: string): void {
    const agent = this.agents.get(instanceId);
    if (agent === undefined) return;
    this.agents.delete(instanceId);
    agent.close(control.AgentCloseCode.Deregistered, 'the instance was deregistered', { type: 'deregistered' });
  }

  /** Online, ConnectionLost or Inactive, and the last ping, from the row and this node's memory. */
  presence(row: PresenceRow, now = this.now()): { status: fleet.PingStatus; lastPingAt: number | null } {
    if (row.deregistered_at !== null) return { status: 'Inactive', lastPingAt: row.last_ping_at };
    const live = this.agents.get(row.instance_id);
    const lastPingAt = live?.lastPingAt ?? row.last_ping_at;
    // A row naming this node without a live connection here is left from before a restart; one
    // naming another node counts while that node's lease runs.
    const held = row.connected_node !== null && row.connected_node !== this.nodeId && (row.lease_expires_at ?? 0) > now;
    const connected = live !== undefined || held;
    const fresh = lastPingAt !== null && now - lastPingAt <= MISSED_HEARTBEATS * this.settings.heartbeatIntervalMs;
    return { status: connected && fresh ? 'Online' : 'ConnectionLost', lastPingAt };
  }

  /** Logs a failure, unless the server is shutting down (then the database may be gone). */
  internalError(message: string, error: unknown): void {
    if (!this.closed) this.deps.log.error(message, error);
  }

  /** One audit record for a control-channel connection, as the API leaves for its calls. */
  audit(event: AgentEvent): void {
    this.deps.audit
      .record({
        service: 'ssm',
        operation: 'AgentConnect',
        readOnly: false,
        principal: ANONYMOUS,
        sourceIp: event.sourceIp,
        userAgent: event.userAgent,
        requestId: randomUUID(),
        time: this.now(),
        requestParameters: event.parameters,
        responseElements: event.response ?? null,
        ...(event.error === undefined ? {} : { error: event.error }),
      })
      .catch((error: unknown) => {
        if (!this.closed) this.deps.log.error('fleet: recording an agent connection in the audit trail failed', error);
      });
  }

  /**
   * Writes the last pings (one statement per 200 agents) and changed inventories. Rows are found
   * by their primary key, and only while they still hold this connection (a connection id is
   * only ever written to its own instance's row, so the two IN lists pair up). Between
   * statements the event loop gets a turn: with thousands of agents, heartbeats are not held up
   * behind the whole write (SQLite's driver is synchronous).
   */
  async flush(): Promise<void> {
    const dirty = [...this.agents.values()].filter((agent) => agent.pingDirty || agent.inventoryDirty);
    for (let start = 0; start < dirty.length; start += 200) {
      if (start > 0) await yieldToEventLoop();
      const chunk = dirty.slice(start, start + 200);
      for (const agent of chunk) agent.pingDirty = false;
      const cases = chunk.map((agent) => sql`WHEN ${agent.instanceId} THEN CAST(${agent.lastPingAt} AS BIGINT)`);
      const instanceIds = chunk.map((agent) => agent.instanceId);
      const connectionIds = chunk.map((agent) => agent.connectionId);
      await sql`UPDATE instances SET last_ping_at = CASE instance_id ${sql.join(cases, sql` `)} ELSE last_ping_at END WHERE instance_id IN (${sql.join(instanceIds)}) AND connection_id IN (${sql.join(connectionIds)})`.execute(
        this.deps.db,
      );
    }
    for (const agent of dirty.filter((candidate) => candidate.inventoryDirty)) {
      await yieldToEventLoop();
      agent.inventoryDirty = false;
      const { inventory } = agent;
      await this.deps.db
        .updateTable('instances')
        .set({
          platform_name: inventory.platformName,
          platform_version: inventory.platformVersion,
          computer_name: inventory.hostname,
          ip_address: inventory.ipAddresses[0] ?? agent.sourceIp,
          agent_version: inventory.agentVersion,
          inventory: JSON.stringify(inventory),
        })
        .where('instance_id', '=', agent.instanceId)
        .where('connection_id', '=', agent.connectionId)
        .execute();
    }
  }

  /**
   * Renews the leases of the connections held here once a third of leaseMs has passed, all to
   * one expiry (one statement per 500 agents), only on rows still holding this connection.
   */
  async renewLeases(): Promise<void> {
    const now = this.now();
    if (now - this.leasesRenewedAt < this.settings.leaseMs / 3) return;
    this.leasesRenewedAt = now;
    const connectionIds = [...this.agents.values()].map((agent) => agent.connectionId);
    for (let start = 0; start < connectionIds.length; start += 500) {
      if (start > 0) await yieldToEventLoop();
      await this.deps.db
        .updateTable('instances')
        .set({ lease_expires_at: now + this.settings.leaseMs })
        .where('connection_id', 'in', connectionIds.slice(start, start + 500))
        .execute();
    }
  }

  /**
   * Several nodes: instances whose lease ran out with their row still naming a node that is not
   * running (it died), or this node in a life before a restart: their connection is gone with it.
   * One node clears each row (a conditional update) and raises the loss, as a closed channel does.
   * A running node's rows are left alone, however late its renewal: it still holds them.
   */
  private async clearLapsedLeases(): Promise<void> {
    const now = this.now();
    if (!this.clustered || now - this.lapsedCheckedAt < LAPSED_CHECK_MS) return;
    this.lapsedCheckedAt = now;
    const rows = await this.deps.db
      .selectFrom('instances')
      .select(['instance_id', 'connected_node'])
      .where('connected_node', 'is not', null)
      .where('lease_expires_at', '<', now)
      .where('deregistered_at', 'is', null)
      .where((eb) =>
        eb.or([
          eb('connected_node', '=', this.nodeId),
          eb.not(eb.exists(eb.selectFrom('nodes').select('node_name').whereRef('nodes.node_name', '=', 'instances.connected_node').where('stopped_at', 'is', null).where('heartbeat_at', '>=', now - NODE_TTL_MS))),
        ]),
      )
      .execute();
    for (const row of rows) {
      if (row.connected_node === null || this.agents.has(row.instance_id)) continue;
      const cleared = await this.deps.db
        .updateTable('instances')
        .set({ connected_node: null, connection_id: null, lease_expires_at: null })
        .where('instance_id', '=', row.instance_id)
        .where('connected_node', '=', row.connected_node)
        .where('lease_expires_at', '<', now)
        .executeTakeFirst();
      if (cleared.numUpdatedRows > 0n) this.onConnectionLost(row.instance_id, `the server node holding its control channel (${row.connected_node}) stopped`);
    }
  }

  /** The node holding `instanceId`'s control channel while its lease runs; undefined: none. */
  async holder(instanceId: string): Promise<string | undefined> {
    if (this.agents.has(instanceId)) return this.nodeId;
    const row = await this.deps.db.selectFrom('instances').select(['connected_node', 'lease_expires_at']).where('instance_id', '=', instanceId).where('deregistered_at', 'is', null).executeTakeFirst();
    return row?.connected_node != null && row.connected_node !== this.nodeId && (row.lease_expires_at ?? 0) > this.now() ? row.connected_node : undefined;
  }

  /**
   * Instances deregistered, or reconnected elsewhere, since the last look: cut off or replaced
   * here. Connections recorded by this node are not read back (its map is newer than they are):
   * after thousands of agents connect, the look stays small.
   */
  async sweep(): Promise<void> {
    if (this.agents.size === 0) {
      this.lastSweep = this.now();
      return;
    }
    const since = this.lastSweep - 60_000;
    this.lastSweep = this.now();
    const rows = await this.deps.db
      .selectFrom('instances')
      .select(['instance_id', 'connection_id', 'deregistered_at'])
      .where((eb) => eb.or([eb('deregistered_at', '>=', since), eb.and([eb('connected_at', '>=', since), eb('connected_node', '<>', this.nodeId)])]))
      .execute();
    for (const row of rows) {
      const agent = this.agents.get(row.instance_id);
      if (agent === undefined) continue;
      if (row.deregistered_at !== null) {
        this.cutOff(row.instance_id);
      } else if (row.connection_id !== null && row.connection_id !== agent.connectionId) {
        this.agents.delete(row.instance_id);
        agent.close(control.AgentCloseCode.Replaced, 'replaced by a newer connection of the same instance (on another node)');
      }
    }
  }

  /** Connections silent (no frame at all) for three intervals and more are dead: drop them. */
  private dropSilent(): void {
    const limit = MISSED_HEARTBEATS * this.settings.heartbeatIntervalMs + this.settings.flushIntervalMs;
    const now = performance.now();
    for (const agent of this.agents.values()) {
      if (now - agent.lastFrameAt > limit) agent.close(1001, 'no heartbeat');
    }
  }

  /** Server shutdown: agents are told to come back (1001), and their last pings are written. */
  async close(): Promise<void> {
    this.closing = true;
    this.stopTimer();
    await this.ticking;
    const agents = [...this.agents.values()];
    for (const agent of agents) agent.close(1001, 'server shutting down');
    try {
      await this.flush();
      await Promise.all(agents.map((agent) => this.release(agent)));
    } catch (error) {
      this.deps.log.error('fleet: writing agent state at shutdown failed', error);
    }
    this.closed = true;
    this.agents.clear();
  }
}
