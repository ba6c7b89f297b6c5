/**
 * A simulated agent for the server's tests: registers through an activation with a real Ed25519
 * key, holds a real control channel (signed hello, heartbeats), and collects the session-open
 * and session-close messages the server sends, so a test can open the data channel itself with
 * a DataPeer and play the agent's part frame by frame.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { control, fleet } from '@airlock/protocol';
import WebSocket from 'ws';
import type { TestServer } from './server.js';
import { whenTrue, within } from './wait.js';

export type SessionOpen = Extract<control.ServerMessage, { type: 'session-open' }>;
type Closed = Extract<control.ServerMessage, { type: 'session-close' }>;

export const SIM_INVENTORY: control.Inventory = {
  platformName: 'Debian GNU/Linux',
  platformVersion: '12',
  kernel: '6.1.0',
  hostname: 'sim-host',
  ipAddresses: ['10.0.0.9'],
  cpus: 2,
  memoryBytes: 2_000_000_000,
  agentVersion: '0.1.0',
};

/** An agent's Ed25519 key pair: the public key as RegisterManagedInstance takes it (DER SPKI, base64). */
export function agentKeyPair(): { publicKey: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), privateKey };
}

export class SimulatedAgent {
  readonly opened: SessionOpen[] = [];
  readonly closed: Closed[] = [];
  private socket: WebSocket | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly instanceId: string,
    readonly privateKey: KeyObject,
  ) {}

  /** Registers with a new activation made by root (its tags copied to the instance; `name`: its DefaultInstanceName, and the host's fingerprint). */
  static async register(server: Pick<TestServer, 'root' | 'client'>, tags: readonly { Key: string; Value: string }[] = [], options: { readonly name?: string } = {}): Promise<SimulatedAgent> {
    const { ActivationId, ActivationCode } = await server.root.call(fleet.CreateActivation, {
      IamRole: 'SSMServiceRole',
      Tags: [...tags],
      ...(options.name === undefined ? {} : { DefaultInstanceName: options.name }),
    });
    const { publicKey, privateKey } = agentKeyPair();
    const { InstanceId } = await server.client().call(fleet.RegisterManagedInstance, {
      ActivationId,
      ActivationCode,
      PublicKey: publicKey,
      PublicKeyType: 'Ed25519',
      Fingerprint: options.name ?? 'sim-host',
    });
    return new SimulatedAgent(InstanceId, privateKey);
  }

  /** Opens the control channel and waits for welcome. */
  async connect(server: Pick<TestServer, 'url'>): Promise<void> {
    const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}${control.CONTROL_PATH}`);
    this.socket = socket;
    const welcomed = new Promise<void>((resolve, reject) => {
      socket.on('message', (raw: Buffer) => {
        const message = control.parseServerMessage(raw.toString('utf8'));
        if (message === undefined) return;
        switch (message.type) {
          case 'challenge': {
            const signature = sign(null, Buffer.from(control.signedChallenge(message.nonce, this.instanceId)), this.privateKey).toString('base64');
            socket.send(JSON.stringify({ type: 'hello', instanceId: this.instanceId, signature, protocolVersion: control.CONTROL_PROTOCOL_VERSION, agentVersion: '0.1.0', capabilities: ['shell', 'port'], inventory: SIM_INVENTORY }));
            break;
          }
          case 'welcome':
            this.heartbeat = setInterval(() => {
              if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'heartbeat' }));
            }, message.heartbeatIntervalMs);
            this.heartbeat.unref();
            resolve();
            break;
          case 'session-open':
            this.opened.push(message);
            break;
          case 'session-close':
            this.closed.push(message);
            break;
          default:
            break;
        }
        for (const waiter of [...this.waiters]) waiter();
      });
      socket.once('close', () => {
        reject(new Error('the control channel closed before welcome'));
      });
      socket.once('error', reject);
    });
    await within(welcomed, 'welcome');
  }

  /** Tells the server a session could not start. */
  fail(sessionId: string, reason: string): void {
    this.socket?.send(JSON.stringify({ type: 'session-failed', sessionId, reason }));
  }

  /** The session-open for `sessionId`, once it has come. */
  async sessionOpen(sessionId: string): Promise<SessionOpen> {
    await this.waitFor(() => this.opened.some((message) => message.sessionId === sessionId), `session-open for ${sessionId}`);
    const found = this.opened.find((message) => message.sessionId === sessionId);
    if (found === undefined) throw new Error('unreachable');
    return found;
  }

  waitFor(check: () => boolean, what: string): Promise<void> {
    return whenTrue(
      check,
      (wake) => {
        this.waiters.add(wake);
        return () => this.waiters.delete(wake);
      },
      what,
    );
  }


  disconnect(): void {
    clearInterval(this.heartbeat);
    this.socket?.terminate();
  }
}
