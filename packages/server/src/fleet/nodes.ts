/**
 * The server nodes sharing one PostgreSQL database: each keeps its row in `nodes` (name, the URL
 * clients and agents reach it at, version) and renews its heartbeat every few seconds. A node
 * whose heartbeat is older than NODE_TTL_MS is presumed dead: nothing is routed to it, and the
 * leases it held on instances run out on their own (agents.ts).
 */
import type { Db } from '../storage/db.js';
import type { NodesTable } from '../storage/schema.js';

/** A node silent this long (no heartbeat) is taken for dead. */
export const NODE_TTL_MS = 15_000;

export interface NodeDirectoryDeps {
  readonly db: Db;
  readonly clock: { now(): number };
  readonly log: { error(message: string, error?: unknown): void };
}

export class NodeDirectory {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The running nodes' data-channel origins (ws:// or wss://), as of the last heartbeat. */
  private origins: readonly string[] = [];

  constructor(
    private readonly deps: NodeDirectoryDeps,
    /** This node's name (--node-name). */
    readonly name: string,
    /** This node's own URL (--advertise-url; known once it listens). */
    private readonly advertiseUrl: () => string,
    private readonly version: string,
  ) {}

  /** Writes this node's row (a restart under the same name takes the row over) and starts the heartbeat. */
  async start(heartbeatMs: number): Promise<void> {
    const now = this.deps.clock.now();
    const row: NodesTable = { node_name: this.name, advertise_url: this.advertiseUrl(), version: this.version, started_at: now, heartbeat_at: now, stopped_at: null };
    await this.deps.db
      .insertInto('nodes')
      .values(row)
      .onConflict((conflict) => conflict.column('node_name').doUpdateSet({ advertise_url: row.advertise_url, version: row.version, started_at: now, heartbeat_at: now, stopped_at: null }))
      .execute();
    await this.refreshOrigins();
    this.timer = setInterval(() => {
      this.beat().catch((error: unknown) => {
        if (!this.closed) this.deps.log.error('nodes: renewing this node\'s heartbeat failed', error);
      });
    }, heartbeatMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    await this.deps.db.updateTable('nodes').set({ heartbeat_at: this.deps.clock.now() }).where('node_name', '=', this.name).execute();
    await this.refreshOrigins();
  }

  private async refreshOrigins(): Promise<void> {
    const rows = await this.deps.db.selectFrom('nodes').select('advertise_url').where('stopped_at', 'is', null).where('heartbeat_at', '>=', this.deps.clock.now() - NODE_TTL_MS).execute();
    this.origins = [...new Set(rows.map((row) => row.advertise_url.replace(/^http/, 'ws')))];
  }

  /** Where the console may open data channels (its Content-Security-Policy): every running node, as of the last heartbeat. */
  streamOrigins(): readonly string[] {
    return this.origins;
  }

  /** The URL of node `name` while it is alive; undefined for a dead, stopped or unknown node. */
  async liveUrl(name: string): Promise<string | undefined> {
    if (name === this.name) return this.advertiseUrl();
    const row = await this.deps.db.selectFrom('nodes').select(['advertise_url', 'heartbeat_at', 'stopped_at']).where('node_name', '=', name).executeTakeFirst();
    return row !== undefined && row.stopped_at === null && this.alive(row.heartbeat_at) ? row.advertise_url : undefined;
  }

  /** Every node's row, for operators (docs/fleet.md). */
  async list(): Promise<(NodesTable & { alive: boolean })[]> {
    const rows = await this.deps.db.selectFrom('nodes').selectAll().orderBy('node_name').execute();
    return rows.map((row) => ({ ...row, alive: row.stopped_at === null && this.alive(row.heartbeat_at) }));
  }

  private alive(heartbeatAt: number): boolean {
    return this.deps.clock.now() - heartbeatAt <= NODE_TTL_MS;
  }

  /** A clean shutdown: the row says so at once, rather than after NODE_TTL_MS. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.deps.db.updateTable('nodes').set({ stopped_at: this.deps.clock.now() }).where('node_name', '=', this.name).execute();
  }
}
