/**
 * The server's end of an agent's control channel (@airlock/protocol control.ts): a challenge on
 * connect; a hello within helloTimeoutMs, signed with the key the instance registered; then a
 * welcome, and heartbeats until either side goes. Every connection attempt is audited
 * (ssm:AgentConnect), refused or not. A refusal or a malformed frame closes that connection
 * only, with the contract's close code.
 *
 * Connections that have not completed hello are capped, on the node and per source address
 * (FleetOptions): one more is closed with 4429 before any challenge, so that a flood of silent
 * connections costs bounded memory and database reads. Those refusals are counted and logged at
 * most once a minute rather than audited one by one: a flood must not become one of audit writes.
 */
import { createPublicKey, randomBytes, randomUUID, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { control, fleet } from '@airlock/protocol';
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import { clientAddress, type ProxyTrust } from '../http/client-address.js';
import type { Db } from '../storage/db.js';
import { CONTROL_MAX_FRAME, closeReason, sourceKey, type AgentHub, type LiveAgent } from './agents.js';

const { AgentCloseCode } = control;

/** How long a closing peer gets to answer the close frame before its socket is destroyed. */
const CLOSE_GRACE_MS = 2_000;

/** Whether `signature` (base64) is the instance key's Ed25519 signature of this connection's challenge. */
export function verifyHello(publicKeyDer: string, nonce: string, instanceId: string, signature: string): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64');
    if (bytes.length !== 64 || bytes.toString('base64') !== signature) return false;
    const key = createPublicKey({ key: Buffer.from(publicKeyDer, 'base64'), format: 'der', type: 'spki' });
    return key.asymmetricKeyType === 'ed25519' && verify(null, Buffer.from(control.signedChallenge(nonce, instanceId), 'utf8'), key, bytes);
  } catch {
    return false;
  }
}

function text(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

function closeSocket(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) return;
  socket.close(code, closeReason(reason));
  setTimeout(() => {
    socket.terminate();
  }, CLOSE_GRACE_MS).unref();
}

/** Runs one control-channel connection from its first frame to its close. */
export function acceptControlChannel(hub: AgentHub, db: Db, socket: WebSocket, request: IncomingMessage, trust: ProxyTrust): void {
  const sourceIp = clientAddress(request, trust);
  const source = sourceKey(sourceIp);
  if (!hub.admit(source)) {
    socket.on('error', () => undefined);
    closeSocket(socket, AgentCloseCode.TooManyPending, 'too many connections waiting to complete hello; retry later');
    return;
  }
  /** Counted by the hub until it completes hello or closes. */
  let pending = true;
  const settle = (): void => {
    if (!pending) return;
    pending = false;
    hub.settle(source);
  };
  const nonce = randomBytes(32).toString('base64');
  const userAgent = request.headers['user-agent'] ?? '';
  let state: 'challenged' | 'verifying' | 'ready' | 'closed' = 'challenged';
  let agent: LiveAgent | undefined;
  let hello: Extract<control.AgentMessage, { type: 'hello' }> | undefined;

  const send = (message: control.ServerMessage): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  };
  const parameters = (): Record<string, unknown> =>
    hello === undefined
      ? {}
      : { instanceId: hello.instanceId, agentVersion: hello.agentVersion, protocolVersion: hello.protocolVersion, capabilities: hello.capabilities, hostname: hello.inventory.hostname };
  /** Refuses the connection: audited with `code`, closed with `closeCode`. */
  const refuse = (closeCode: number, code: string, message: string, notice?: control.ServerMessage): void => {
    if (state === 'closed') return;
    state = 'closed';
    clearTimeout(helloTimer);
    hub.audit({ sourceIp, userAgent, parameters: parameters(), error: { code, message } });
    if (notice !== undefined) send(notice);
    closeSocket(socket, closeCode, message);
  };
  /** Still checking the hello (the agent may have gone, or been replaced, during a wait). */
  const verifying = (): boolean => state === 'verifying';
  const malformed = (message: string): void => {
    refuse(AgentCloseCode.Malformed, 'MalformedFrame', message);
  };

  const helloTimer = setTimeout(() => {
    refuse(AgentCloseCode.Unauthorized, 'HelloTimeout', `no hello within ${hub.options.helloTimeoutMs} ms`);
  }, hub.options.helloTimeoutMs);
  helloTimer.unref();

  const authenticate = async (message: Extract<control.AgentMessage, { type: 'hello' }>): Promise<void> => {
    if (message.protocolVersion !== control.CONTROL_PROTOCOL_VERSION) {
      malformed(`protocol version ${message.protocolVersion} is not spoken here (${control.CONTROL_PROTOCOL_VERSION} is)`);
      return;
    }
    const row = fleet.INSTANCE_ID.test(message.instanceId)
      ? await db.selectFrom('instances').select(['public_key', 'deregistered_at']).where('instance_id', '=', message.instanceId).executeTakeFirst()
      : undefined;
    if (!verifying()) return;
    if (row === undefined) {
      refuse(AgentCloseCode.Unauthorized, 'InvalidInstanceId', `instance ${message.instanceId} is not registered here`);
      return;
    }
    if (row.deregistered_at !== null || row.public_key === null) {
      refuse(AgentCloseCode.Deregistered, 'InstanceDeregistered', `instance ${message.instanceId} was deregistered`, { type: 'deregistered' });
      return;
    }
    if (!verifyHello(row.public_key, nonce, message.instanceId, message.signature)) {
      refuse(AgentCloseCode.Unauthorized, 'InvalidSignature', `the signature is not ${message.instanceId}'s over this connection's challenge`);
      return;
    }
    const now = hub.now();
    const live: LiveAgent = {
      instanceId: message.instanceId,
      connectionId: randomUUID(),
      sourceIp,
      connectedAt: now,
      agentVersion: message.agentVersion,
      inventory: message.inventory,
      lastPingAt: now,
      lastFrameAt: performance.now(),
      pingDirty: false,
      inventoryDirty: false,
      send: (notice) => {
        if (state !== 'ready' || socket.readyState !== WebSocket.OPEN) return false;
        send(notice);
        return true;
      },
      close: (code, reason, notice) => {
        if (state === 'closed') return;
        state = 'closed';
        if (notice !== undefined) send(notice);
        closeSocket(socket, code, reason);
      },
    };
    agent = live;
    const registered = await hub.connect(live, { platformType: 'Linux', ipAddress: message.inventory.ipAddresses[0] ?? sourceIp });
    if (!registered) {
      refuse(AgentCloseCode.Deregistered, 'InstanceDeregistered', `instance ${message.instanceId} was deregistered`, { type: 'deregistered' });
      void hub.release(live);
      return;
    }
    if (!verifying()) {
      // Gone while its connection was recorded (closed by the agent, replaced or cut off).
      void hub.release(live);
      return;
    }
    state = 'ready';
    clearTimeout(helloTimer);
    settle();
    const { heartbeatIntervalMs } = hub.options;
    send({ type: 'welcome', heartbeatIntervalMs });
    hub.onAgentConnected(live.instanceId);
    hub.audit({ sourceIp, userAgent, parameters: parameters(), response: { heartbeatIntervalMs } });
  };

  socket.on('message', (data: RawData, isBinary: boolean) => {
    if (state === 'closed') return;
    if (isBinary) {
      malformed('binary frames are not part of the control protocol');
      return;
    }
    const message = control.parseAgentMessage(text(data));
    if (message === undefined) {
      malformed('not a control message');
      return;
    }
    switch (state) {
      case 'challenged':
        if (message.type !== 'hello') {
          malformed('the first message must be hello');
          return;
        }
        state = 'verifying';
        hello = message;
        authenticate(message).catch((error: unknown) => {
          refuse(1011, 'InternalServerError', 'the server failed to check the hello');
          hub.internalError(`fleet: checking the hello of ${message.instanceId} failed`, error);
        });
        return;
      case 'verifying':
        malformed('wait for welcome before sending more');
        return;
      case 'ready':
        if (message.type === 'session-failed' && agent !== undefined) {
          hub.onSessionFailed(agent.instanceId, message.sessionId, message.reason);
          return;
        }
        if (message.type !== 'heartbeat' || agent === undefined) {
          malformed('hello was already sent');
          return;
        }
        hub.heartbeat(agent, message.inventory);
        send({ type: 'heartbeat-ack' });
        return;
    }
  });
  socket.on('close', () => {
    state = 'closed';
    clearTimeout(helloTimer);
    settle();
    if (agent !== undefined) void hub.release(agent);
  });
  socket.on('error', () => {
    // ws closes the socket itself (too large a frame: 1009; invalid UTF-8: 1007); 'close' follows.
  });

  send({ type: 'challenge', nonce, serverTime: hub.now() });
}

/** The control channel's WebSocket server; the HTTP server hands it upgrades for CONTROL_PATH. */
export function controlChannelOptions(): { noServer: true; maxPayload: number; perMessageDeflate: false } {
  return { noServer: true, maxPayload: CONTROL_MAX_FRAME, perMessageDeflate: false };
}

/** Shutdown: agents get 1001 and a moment to answer; what is left is cut. */
export async function closeControlChannel(server: WebSocketServer, hub: AgentHub): Promise<void> {
  await hub.close();
  for (const socket of server.clients) closeSocket(socket, 1001, 'server shutting down');
  const deadline = Date.now() + 1_000;
  while (server.clients.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const socket of server.clients) socket.terminate();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
}
