/**
 * Starting and stopping a server: data directory, database and migrations, first-start
 * bootstrap (identity store, management account, root token), mail, TLS, and the HTTP API.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { control } from '@airlock/protocol';
import { WebSocketServer } from 'ws';
import { ensureManagementAccount, ORGANIZATIONS_OPERATIONS } from './access/accounts.js';
import { ChangeGeneration } from './access/cache.js';
import { SSO_ADMIN_OPERATIONS } from './access/permission-sets.js';
import { ROLE_SESSION_OPERATIONS } from './access/role-sessions.js';
import { CLOUDTRAIL_OPERATIONS } from './audit/lookup.js';
import { AuditTrail } from './audit/trail.js';
import type { ServerConfig } from './config/config.js';
import { AuditLogGroup } from './events/audit-log-group.js';
import { EventBus, type EventBusOptions } from './events/bus.js';
import { EVENTS_OPERATIONS } from './events/operations.js';
import { AgentHub, type FleetOptions } from './fleet/agents.js';
import { acceptControlChannel, closeControlChannel, controlChannelOptions } from './fleet/control-channel.js';
import { NodeDirectory } from './fleet/nodes.js';
import { FLEET_OPERATIONS } from './fleet/operations.js';
import { NodeRelay } from './fleet/relay.js';
import { SERVER_VERSION } from './fleet/version.js';
import { buildApp } from './http/app.js';
import { proxyTrust } from './http/client-address.js';
import { defaultConsoleDir, loadConsole } from './http/console.js';
import { ensureServerCertificate, loadCertificateFiles } from './http/tls.js';
import { DIRECTORY_OPERATIONS } from './identity/directory.js';
import { DEVICE_AUTHORIZATION_OPERATIONS } from './identity/device-authorization.js';
import { LOGS_OPERATIONS } from './logs/operations.js';
import { LogRetention } from './logs/retention.js';
import { PORTAL_OPERATIONS } from './identity/portal.js';
import { SecretBox } from './identity/secrets.js';
import { ensureRootToken } from './identity/root-token.js';
import { createMailer } from './mail/mailer.js';
import type { OutboxOptions } from './objects/outbox.js';
import { ObjectService } from './objects/service.js';
import { loadDropCached } from './sessions/page-cache.js';
import { SessionBroker, type BrokerOptions } from './sessions/broker.js';
import { DataGateway, dataDoor, dataServerOptions } from './sessions/gateway.js';
import { DOCUMENT_OPERATIONS } from './sessions/document-operations.js';
import { SESSION_OPERATIONS } from './sessions/operations.js';
import { handOverLeftBehind, undeliveredMoved } from './sessions/record-segments.js';
import { deliverRecording, LogStreamer } from './sessions/recording.js';
import { askElsewhere, serveRelay } from './sessions/routing.js';
import { registerScimRoutes } from './scim/routes.js';
import { SCIM_TOKEN_OPERATIONS } from './scim/tokens.js';
import type { BoundOperation } from './registry/handler.js';
import { systemClock, type ClusterServices, type Clock, type Logger, type Services } from './services.js';
import { openDatabase, type Db } from './storage/db.js';
import { ensureSetting } from './storage/settings.js';

export const OPERATIONS: readonly BoundOperation[] = [
  ...DIRECTORY_OPERATIONS,
  ...SCIM_TOKEN_OPERATIONS,
  ...PORTAL_OPERATIONS,
  ...DEVICE_AUTHORIZATION_OPERATIONS,
  ...ORGANIZATIONS_OPERATIONS,
  ...SSO_ADMIN_OPERATIONS,
  ...ROLE_SESSION_OPERATIONS,
  ...FLEET_OPERATIONS,
  ...SESSION_OPERATIONS,
  ...DOCUMENT_OPERATIONS,
  ...CLOUDTRAIL_OPERATIONS,
  ...LOGS_OPERATIONS,
  ...EVENTS_OPERATIONS,
];

export interface RunningServer {
  /** The URL the server answers at (its real port when the config asked for port 0). */
  readonly url: string;
  readonly services: Services;
  /** Set when this start made the root token. */
  readonly rootTokenFile: string | undefined;
  readonly caFingerprint: string | undefined;
  /** The periodic removal of expired log events; purge() runs one now. */
  readonly logRetention: LogRetention;
  /** With --audit-log-group: the copy of the audit trail into that log group; flush() copies what is new now. */
  readonly auditLogGroup: AuditLogGroup | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly log?: Logger;
  /** The agents' control channel: heartbeat interval, hello timeout (tests shorten them). */
  readonly fleet?: Partial<FleetOptions>;
  /** Session deadlines: how long an agent may be away, how often they are checked. */
  readonly sessions?: Partial<BrokerOptions>;
  /** The object outbox: polling, leases, backoff (tests shorten or lengthen them). */
  readonly objects?: Partial<OutboxOptions>;
  /** The event bus's delivery queue: how often it is looked at, leases, timeouts (tests shorten them). */
  readonly events?: Partial<EventBusOptions>;
}

export const consoleLogger: Logger = {
  info: (message) => {
    console.log(message);
  },
  warn: (message) => {
    console.warn(`warning: ${message}`);
  },
  error: (message, error) => {
    console.error(`error: ${message}`, error instanceof Error ? (error.stack ?? error.message) : (error ?? ''));
  },
};

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const log = options.log ?? consoleLogger;
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const { db } = database;
    const identityStoreId = await ensureSetting(db, 'identity_store_id', () => `d-${randomBytes(5).toString('hex')}`);
    const accountId = await ensureSetting(db, 'management_account_id', () => String(randomInt(100_000_000_000, 1_000_000_000_000)));
    const ssoInstanceId = await ensureSetting(db, 'sso_instance_id', () => `ssoins-${randomBytes(8).toString('hex')}`);
    await ensureManagementAccount(db, accountId, (options.clock ?? systemClock).now());
    const rootToken = await ensureRootToken(db, config.dataDir);
    const mailer = createMailer({
      ...(config.smtpUrl === undefined ? {} : { smtpUrl: config.smtpUrl }),
      from: config.mailFrom,
      outboxDir: join(config.dataDir, 'outbox'),
      log: (line) => {
        log.info(line);
      },
    });
    let listenerUrl = '';
    const clock = options.clock ?? systemClock;
    const audit = new AuditTrail(db, config.region);
    const secrets = await SecretBox.open(config.dataDir, config.secretKey);
    const events = new EventBus({ db, clock, log, mailer, secrets, region: config.region, accountId }, options.events);
    const auditLogGroup = config.auditLogGroup === undefined ? undefined : new AuditLogGroup({ db, clock, log, accountId, region: config.region, logGroupName: config.auditLogGroup });
    audit.onRecorded = async (record) => {
      await events.recorded(record);
      auditLogGroup?.kick();
    };
    const agents = new AgentHub({ db, clock, audit, log }, options.fleet, config.nodeName);
    const cluster = clusterServices(config, db, clock, log, () => listenerUrl);
    const askElsewhereFor = cluster === undefined ? undefined : (request: Parameters<typeof askElsewhere>[2]) => askElsewhere(agents, cluster.relay, request);
    const sessions = new SessionBroker(
      { db, agents, audit, clock, log, dataDir: config.dataDir, ...(cluster === undefined || askElsewhereFor === undefined ? {} : { cluster: { advertiseUrl: cluster.advertiseUrl, askElsewhere: askElsewhereFor } }) },
      options.sessions,
    );
    const revived = await sessions.revive(agents.nodeId);
    if (revived > 0) log.info(`Sessions: ${revived} revived from their records; clients and agents resume them.`);
    const logRetention = new LogRetention({ db, clock, log });
    const objects = await ObjectService.open(config, { db, clock, log }, options.objects);
    agents.onConnectionLost = (instanceId, reason) => {
      void events.instanceConnectionLost(instanceId, reason);
    };
    const delivery = { db, objects, dataDir: config.dataDir, now: () => clock.now() };
    const streamer = new LogStreamer({ ...delivery, log, recorded: async (sessionId) => sessions.get(sessionId)?.record.settled() });
    await streamer.catchUp();
    sessions.onFrame = (sessionId, entry) => {
      streamer.push(sessionId, entry);
    };
    sessions.onSealed = async (sessionId) => {
      await streamer.finish(sessionId);
      await deliverRecording(delivery, sessionId);
    };
    if (cluster !== undefined) {
      // Sessions that moved off this node while it was down: its segments of their records join the others.
      for (const sessionId of await handOverLeftBehind(sessions.segmentDeps())) {
        log.info(`Sessions: ${sessionId} moved to another node while this one was down; its record here is handed over.`);
        await sessions.onSealed(sessionId);
      }
      for (const sessionId of await undeliveredMoved(db)) {
        await deliverRecording(delivery, sessionId).catch((error: unknown) => {
          log.error(`Sessions: delivering the record of ${sessionId} failed; the next start tries again`, error);
        });
      }
    }
    sessions.onEnded = (sessionId, status, reason) => {
      void events.sessionEnded(sessionId, status, reason);
    };
    const services: Services = {
      config,
      publicUrl: () => config.publicUrl ?? listenerUrl,
      db,
      mailer,
      clock,
      log,
      audit,
      identityStoreId,
      accountId,
      ssoInstanceId,
      rootTokenHash: rootToken.hash,
      secrets,
      changes: new ChangeGeneration(),
      agents,
      sessions,
      events,
      objects,
      cluster,
    };
    if (cluster !== undefined) {
      serveRelay(cluster.relay, { db, agents, sessions, log });
      await cluster.relay.start();
    }
    const tls = await tlsFor(config);
    const consoleFiles = await loadConsole(defaultConsoleDir());
    if (consoleFiles === undefined) log.warn(`The web console is not built (nothing in ${defaultConsoleDir()}): run \`npm run build\`.`);
    const pageCache = loadDropCached();
    if ('problem' in pageCache) log.warn(`Session records will stay in the page cache once on disk, taking memory for every byte sessions print: the server's page-cache addon did not load (${pageCache.problem}). Build it (a C compiler and make, then npm rebuild in the server's package) and restart.`);
    const app = buildApp({ services, operations: OPERATIONS, consoleFiles, ...(tls === undefined ? {} : { https: tls }) });
    registerScimRoutes(app, services);
    // WebSocket paths: the agents' control channel and the sessions' data channel. Any other upgrade is refused.
    const controlChannel = new WebSocketServer(controlChannelOptions());
    const trust = proxyTrust(config.trustedProxies);
    controlChannel.on('connection', (socket, request) => {
      acceptControlChannel(agents, db, socket, request, trust);
    });
    const dataChannel = new WebSocketServer(dataServerOptions());
    const gateway = new DataGateway(sessions, db, () => clock.now(), log);
    app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const door = dataDoor(request);
      if (new URL(request.url ?? '/', 'http://localhost').pathname === control.CONTROL_PATH) {
        controlChannel.handleUpgrade(request, socket, head, (client) => controlChannel.emit('connection', client, request));
      } else if (door !== undefined) {
        dataChannel.handleUpgrade(request, socket, head, (client) => {
          gateway.accept(client, door.sessionId);
        });
      } else {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
    });
    await auditLogGroup?.start();
    await app.listen({ host: config.listen.host, port: config.listen.port });
    agents.start();
    sessions.start();
    await objects.start();
    events.start();
    logRetention.start();
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    listenerUrl = `${config.tls ? 'https' : 'http'}://${host}:${address.port}`;
    await cluster?.nodes.start(NODE_HEARTBEAT_MS);
    return {
      url: listenerUrl,
      services,
      rootTokenFile: rootToken.writtenTo,
      caFingerprint: tls?.caFingerprint,
      logRetention,
      auditLogGroup,
      close: async () => {
        await sessions.close();
        await streamer.flush();
        streamer.close();
        await logRetention.close();
        for (const client of dataChannel.clients) client.terminate();
        dataChannel.close();
        await closeControlChannel(controlChannel, agents);
        await app.close();
        await events.close();
        await auditLogGroup?.close();
        await objects.close();
        await mailer.close();
        await cluster?.nodes.stop();
        await cluster?.relay.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** How often a node renews its row in `nodes` (NODE_TTL_MS is three times this). */
const NODE_HEARTBEAT_MS = 5_000;

/** Several nodes: with --node-name (which needs PostgreSQL), the nodes table and the relay. */
function clusterServices(config: ServerConfig, db: Db, clock: Clock, log: Logger, listenerUrl: () => string): ClusterServices | undefined {
  if (config.nodeName === undefined || config.databaseUrl === undefined) return undefined;
  const advertiseUrl = (): string => config.advertiseUrl ?? config.publicUrl ?? listenerUrl();
  return {
    nodes: new NodeDirectory({ db, clock, log }, config.nodeName, advertiseUrl, SERVER_VERSION),
    relay: new NodeRelay(config.databaseUrl, db, config.nodeName, log),
    advertiseUrl,
  };
}

async function tlsFor(config: ServerConfig): Promise<{ cert: string; key: string; caFingerprint: string | undefined } | undefined> {
  if (!config.tls) return undefined;
  if (config.tlsCert !== undefined && config.tlsKey !== undefined) {
    return { ...(await loadCertificateFiles(config.tlsCert, config.tlsKey)), caFingerprint: undefined };
  }
  const publicHost = config.publicUrl === undefined ? [] : [new URL(config.publicUrl).hostname];
  const hostnames = [...new Set([config.listen.host, ...publicHost, 'localhost'])].filter((host) => host !== '0.0.0.0' && host !== '::');
  const generated = await ensureServerCertificate({ dataDir: config.dataDir, hostnames });
  return { cert: generated.cert, key: generated.key, caFingerprint: generated.caFingerprint };
}

