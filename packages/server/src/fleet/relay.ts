/**
 * Word between nodes, through PostgreSQL's LISTEN/NOTIFY (no other service to run): node N asks
 * node M, which holds an instance's control channel, to tell that agent to open a session's
 * data channel to N directly; or asks the node carrying a session to end it. Session bytes
 * never pass here, only these short requests.
 *
 * LISTEN needs a connection of its own (a pooled one goes back to the pool), so the relay keeps
 * one pg client, reconnected after a drop. Notifications reach every database session that
 * listens on the channel, whatever its schema: the channel is named after the schema, so that
 * two deployments (or tests) in one database do not hear each other. A notification is lost
 * when no node listens at that moment; callers ask again (the broker's tick does).
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from '../storage/db.js';

export type RelayMessage =
  /** To the holder of `instanceId`'s control channel: tell it to open `sessionId` to `url`. */
  | { readonly kind: 'open'; readonly to: string; readonly instanceId: string; readonly sessionId: string; readonly url: string; readonly resume: boolean }
  /** To the node carrying `sessionId`: end it (TerminateSession served elsewhere). */
  | { readonly kind: 'end'; readonly to: string; readonly sessionId: string; readonly reason: string };

const RECONNECT_MS = 1_000;

function parse(payload: string | undefined): RelayMessage | undefined {
  try {
    const value = JSON.parse(payload ?? '') as Record<string, unknown>;
    const text = (key: string): boolean => typeof value[key] === 'string';
    if (value['kind'] === 'open' && text('to') && text('instanceId') && text('sessionId') && text('url') && typeof value['resume'] === 'boolean') return value as RelayMessage;
    if (value['kind'] === 'end' && text('to') && text('sessionId') && text('reason')) return value as RelayMessage;
  } catch {
    // Not ours: ignored below.
  }
  return undefined;
}

export class NodeRelay {
  private client: pg.Client | undefined;
  private channel = '';
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly db: Db,
    /** This node's name: messages to others are not for it. */
    private readonly self: string,
    private readonly log: { warn(message: string): void; error(message: string, error?: unknown): void },
  ) {}

  /** Set by the server: a message for this node. */
  onMessage: (message: RelayMessage) => void = () => undefined;

  /** Connects and listens; resolves once listening (a failure here stops the start). */
  async start(): Promise<void> {
    const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(this.db)).rows[0]?.schema ?? 'public';
    this.channel = `airlock_relay_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
    await this.listen();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (notice) => {
      const message = parse(notice.payload);
      if (message === undefined) this.log.warn(`relay: a notification that is not a relay message was ignored`);
      else if (message.to === this.self) this.onMessage(message);
    });
    client.on('error', (error) => {
      if (this.closed) return;
      this.log.error('relay: the listening connection failed; reconnecting', error);
      void client.end().catch(() => undefined);
      this.reconnect();
    });
    // The server closed it (a restart, an idle timeout): listen again on a new one.
    client.on('end', () => {
      if (!this.closed && this.client === client) this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${this.channel}`);
    this.client = client;
  }

  private reconnect(): void {
    this.client = undefined;
    if (this.closed || this.retry !== undefined) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listen().catch((error: unknown) => {
        if (!this.closed) this.log.error('relay: listening again failed; retrying', error);
        this.reconnect();
      });
    }, RECONNECT_MS);
    this.retry.unref();
  }

  /** Sends `message` to its node (through the pool: NOTIFY needs no connection of its own). */
  async send(message: RelayMessage): Promise<void> {
    await sql`select pg_notify(${this.channel}, ${JSON.stringify(message)})`.execute(this.db);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
