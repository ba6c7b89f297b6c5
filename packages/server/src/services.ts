/** What every handler may use: configuration, storage, mail, the clock, the audit trail. */
import type { ChangeGeneration } from './access/cache.js';
import type { AuditTrail } from './audit/trail.js';
import type { ServerConfig } from './config/config.js';
import type { EventBus } from './events/bus.js';
import type { AgentHub } from './fleet/agents.js';
import type { NodeDirectory } from './fleet/nodes.js';
import type { NodeRelay } from './fleet/relay.js';
import type { SecretBox } from './identity/secrets.js';
import type { Mailer } from './mail/mailer.js';
import type { ObjectService } from './objects/service.js';
import type { SessionBroker } from './sessions/broker.js';
import type { Db } from './storage/db.js';

export interface Clock {
  /** Epoch milliseconds. Tests pass a clock they can move. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface Services {
  readonly config: ServerConfig;
  /** The URL for links: --public-url, else the address the server listens on. */
  publicUrl(): string;
  readonly db: Db;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly log: Logger;
  readonly audit: AuditTrail;
  /** d-0123456789: this server's one identity store. */
  readonly identityStoreId: string;
  /** The management account's 12-digit id. */
  readonly accountId: string;
  /** ssoins-{16 hex}: this server's one IAM Identity Center instance. */
  readonly ssoInstanceId: string;
  readonly rootTokenHash: string;
  /** Seals secrets kept at rest (TOTP seeds). */
  readonly secrets: SecretBox;
  /** Moves on every successful write, invalidating the caches of the access checks. */
  readonly changes: ChangeGeneration;
  /** The agents connected to this node (their control channels), and their ping status. */
  readonly agents: AgentHub;
  /** The sessions open on this node, joining clients' and agents' data channels. */
  readonly sessions: SessionBroker;
  /** The object store for recordings: enqueue(upload) through the outbox, bucketEncrypted(bucket). */
  readonly objects: ObjectService;
  /** The event bus: emit(event) matches it against the account's rules and queues its deliveries. */
  readonly events: EventBus;
  /** Several nodes (--node-name): the other nodes and word with them; undefined: one node. */
  readonly cluster: ClusterServices | undefined;
}

export interface ClusterServices {
  readonly nodes: NodeDirectory;
  readonly relay: NodeRelay;
  /** This node's own URL (--advertise-url, else --public-url, else the listener's). */
  readonly advertiseUrl: () => string;
}
