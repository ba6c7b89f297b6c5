/**
 * A test double of the Airlock server's side of the agent contract (control.ts): the unsigned
 * ssm:RegisterManagedInstance, and the control channel at CONTROL_PATH: challenge, a hello whose
 * Ed25519 signature it checks with node:crypto, welcome, heartbeat-ack, deregistered/4403, 4401.
 * Loopback only, on a random port; http, or https with a given certificate.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { control } from '@airlock/protocol';
import { WebSocketServer, type WebSocket } from 'ws';

export interface FakeServerOptions {
  readonly heartbeatIntervalMs?: number;
  readonly activationId?: string;
  readonly activationCode?: string;
  readonly registrationLimit?: number;
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface HelloRecord {
  readonly message: Extract<control.AgentMessage, { type: 'hello' }>;
  readonly signatureValid: boolean;
  readonly at: number;
}

export interface HeartbeatRecord {
  readonly instanceId: string;
  readonly at: number;
  readonly inventory: control.Inventory | undefined;
}

export interface CloseRecord {
  readonly instanceId: string | undefined;
  readonly code: number;
  readonly reason: string;
}

export interface RegisterRequest {
  readonly body: Record<string, unknown>;
  readonly status: number;
}

interface Peer {
  readonly socket: WebSocket;
  readonly nonce: string;
  instanceId: string | undefined;
}

export class FakeAirlock {
  readonly activationId: string;
  readonly activationCode: string;
  heartbeatIntervalMs: number;
  /** When false, heartbeats go unanswered (a server that hangs). */
  ackHeartbeats = true;
  /** When set, the server answers a hello with this frame instead of welcome. */
  replyToHello: string | undefined;
  readonly registrations = new Map<string, { publicKey: KeyObject; fingerprint: string }>();
  readonly registerRequests: RegisterRequest[] = [];
  readonly hellos: HelloRecord[] = [];
  readonly heartbeats: HeartbeatRecord[] = [];
  readonly closes: CloseRecord[] = [];
  readonly revoked = new Set<string>();
  readonly deregistered = new Set<string>();
  /** session-failed messages, as they came. */
  readonly sessionFailures: { instanceId: string | undefined; sessionId: string; reason: string }[] = [];
  /** Connections the upgrade accepted, whatever came of them. */
  connectionCount = 0;
  readonly #peers = new Set<Peer>();
  readonly #limit: number;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  url = '';

  private constructor(options: FakeServerOptions) {
    this.activationId = options.activationId ?? '4a8f2d3c-0000-4000-8000-000000000001';
    this.activationCode = options.activationCode ?? 'Fake+Activation+Code+0123';
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 100;
    this.#limit = options.registrationLimit ?? 10;
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      this.#http(request, response);
    };
    this.#server = options.tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler);
    this.#wss = new WebSocketServer({ server: this.#server, path: control.CONTROL_PATH });
    this.#wss.on('connection', (socket) => {
      this.#connection(socket);
    });
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeAirlock> {
    const fake = new FakeAirlock(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.#server.address() as AddressInfo;
    fake.url = `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
    return fake;
  }

  /** Live, welcomed connections. */
  get online(): number {
    return [...this.#peers].filter((peer) => peer.instanceId !== undefined).length;
  }

  /** Cuts every connection without a close frame, as a crash or a network drop would. */
  dropAll(): void {
    for (const peer of this.#peers) peer.socket.terminate();
  }

  /** As ssm:DeregisterManagedInstance: tells a live agent, closes it 4403, and refuses it from now on. */
  deregister(instanceId: string): void {
    this.deregistered.add(instanceId);
    for (const peer of this.#peers) {
      if (peer.instanceId !== instanceId) continue;
      peer.socket.send(JSON.stringify({ type: 'deregistered' }));
      peer.socket.close(control.AgentCloseCode.Deregistered, 'deregistered');
    }
  }

  /** Sends a server message (session-open, session-close) to a welcomed agent; false when it is not connected. */
  send(instanceId: string, message: control.ServerMessage): boolean {
    const peer = [...this.#peers].find((candidate) => candidate.instanceId === instanceId);
    peer?.socket.send(JSON.stringify(message));
    return peer !== undefined;
  }

  async stop(): Promise<void> {
    for (const peer of this.#peers) peer.socket.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #http(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const send = (status: number, body: unknown, parsed: Record<string, unknown>): void => {
        this.registerRequests.push({ body: parsed, status });
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (request.method !== 'POST' || request.url !== '/api/ssm/RegisterManagedInstance') {
        response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ __type: 'UnknownOperationException', message: 'No route.' }));
        return;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        send(400, { __type: 'SerializationException', message: 'Not JSON.' }, {});
        return;
      }
      if (body['ActivationId'] !== this.activationId || body['ActivationCode'] !== this.activationCode) {
        send(400, { __type: 'InvalidActivation', message: 'The activation is not valid.' }, body);
        return;
      }
      if (this.registrations.size >= this.#limit) {
        send(400, { __type: 'RegistrationLimitExceeded', message: 'The activation has reached its registration limit.' }, body);
        return;
      }
      let publicKey: KeyObject;
      try {
        publicKey = createPublicKey({ key: Buffer.from(String(body['PublicKey']), 'base64'), format: 'der', type: 'spki' });
        if (body['PublicKeyType'] !== 'Ed25519' || publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
      } catch {
        send(400, { __type: 'InvalidPublicKey', message: 'The public key is not an Ed25519 SPKI.' }, body);
        return;
      }
      const instanceId = `mi-${randomBytes(9).toString('hex').slice(0, 17)}`;
      this.registrations.set(instanceId, { publicKey, fingerprint: String(body['Fingerprint']) });
      send(200, { InstanceId: instanceId }, body);
    });
  }

  #connection(socket: WebSocket): void {
    this.connectionCount++;
    const peer: Peer = { socket, nonce: randomBytes(24).toString('base64url'), instanceId: undefined };
    this.#peers.add(peer);
    let helloSeen = false;
    socket.on('close', (code, reason) => {
      this.#peers.delete(peer);
      this.closes.push({ instanceId: peer.instanceId, code, reason: reason.toString('utf8') });
    });
    socket.on('message', (data: Buffer) => {
      const message = control.parseAgentMessage(data.toString('utf8'));
      if (message === undefined || (message.type === 'hello') === helloSeen) {
        socket.close(control.AgentCloseCode.Malformed, 'malformed');
        return;
      }
      if (message.type === 'heartbeat') {
        if (peer.instanceId === undefined) return;
        this.heartbeats.push({ instanceId: peer.instanceId, at: Date.now(), inventory: message.inventory });
        if (this.ackHeartbeats) socket.send(JSON.stringify({ type: 'heartbeat-ack' }));
        return;
      }
      if (message.type === 'session-failed') {
        this.sessionFailures.push({ instanceId: peer.instanceId, sessionId: message.sessionId, reason: message.reason });
        return;
      }
      helloSeen = true;
      const registration = this.registrations.get(message.instanceId);
      const payload = Buffer.from(control.signedChallenge(peer.nonce, message.instanceId), 'utf8');
      const signatureValid = registration !== undefined && verify(null, payload, registration.publicKey, Buffer.from(message.signature, 'base64'));
      this.hellos.push({ message, signatureValid, at: Date.now() });
      if (this.deregistered.has(message.instanceId)) {
        socket.send(JSON.stringify({ type: 'deregistered' }));
        socket.close(control.AgentCloseCode.Deregistered, 'deregistered');
        return;
      }
      if (!signatureValid || this.revoked.has(message.instanceId)) {
        socket.close(control.AgentCloseCode.Unauthorized, 'unknown instance or bad signature');
        return;
      }
      if (this.replyToHello !== undefined) {
        socket.send(this.replyToHello);
        return;
      }
      peer.instanceId = message.instanceId;
      socket.send(JSON.stringify({ type: 'welcome', heartbeatIntervalMs: this.heartbeatIntervalMs }));
    });
    socket.send(JSON.stringify({ type: 'challenge', nonce: peer.nonce, serverTime: Date.now() }));
  }
}
