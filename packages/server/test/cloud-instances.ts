/**
 * What the tests of the EC2 view, instance properties and inventory share: a server with cloud
 * join on (its certificate made with openssl, as cloud-join.test.ts does), instances that join
 * through the real ssm:RegisterEC2Instance, and an agent that connects over the real control
 * channel with the inventory a test gives it (the least of the protocol: challenge, signed hello,
 * welcome, heartbeat); and managed instances registered with an activation.
 */
import assert from 'node:assert/strict';
import { sign, type KeyObject } from 'node:crypto';
import { control, fleet } from '@airlock/protocol';
import { agentKeyPair, identityDocument, IdentitySigner, SimulatedAgent, startTestServer, within, type Backend, type TestServer } from '@airlock/testkit';
import WebSocket from 'ws';

export const REGION = 'eu-west-1';

let serial = 0;
/** A fresh instance id, 17 hex digits, in the order made. */
export function newInstanceId(): string {
  serial += 1;
  return `i-0${Date.now().toString(16).padStart(12, '0').slice(-12)}${serial.toString(16).padStart(4, '0')}`;
}

export interface CloudFleet {
  readonly server: TestServer;
  /** The management account, which the instances join (their documents name its id). */
  readonly account: string;
  /** Registers an instance through ssm:RegisterEC2Instance; its key signs the agent's hello. */
  join(options?: { privateIp?: string; pendingTime?: Date; tags?: { Key: string; Value: string }[] }): Promise<{ instanceId: string; privateKey: KeyObject }>;
  stop(): Promise<void>;
}

/** A server with cloud join on, taking instances of its management account's id. */
export async function cloudFleet(backend: Backend): Promise<CloudFleet> {
  const signer = await IdentitySigner.create();
  const first = await startTestServer({ backend });
  const account = first.server.services.accountId;
  const server = await first.restart({ flags: { 'cloud-join-certificates': signer.certificateFile, 'cloud-join-accounts': account } });
  return {
    server,
    account,
    join: async (options = {}) => {
      const instanceId = newInstanceId();
      const document = identityDocument({
        accountId: account,
        instanceId,
        region: REGION,
        ...(options.privateIp === undefined ? {} : { privateIp: options.privateIp }),
        pendingTime: options.pendingTime ?? new Date(server.clock.now() - 60_000),
      });
      const { publicKey, privateKey } = agentKeyPair();
      await server.client().call(fleet.RegisterEC2Instance, {
        IdentityDocument: document,
        IdentityDocumentSignature: (await signer.pkcs7(document)).toString('base64'),
        PublicKey: publicKey,
        PublicKeyType: 'Ed25519',
        Fingerprint: instanceId,
        ...(options.tags === undefined ? {} : { Tags: options.tags }),
      });
      return { instanceId, privateKey };
    },
    stop: async () => {
      await server.stop();
      await signer.remove();
    },
  };
}

/** Registers a managed instance (mi-…) with a new activation: its Name, and the tags copied from the activation. */
export async function registerManaged(server: TestServer, options: { name?: string; tags?: { Key: string; Value: string }[] } = {}): Promise<{ instanceId: string; privateKey: KeyObject }> {
  const { instanceId, privateKey } = await SimulatedAgent.register(server, options.tags, options.name === undefined ? {} : { name: options.name });
  return { instanceId, privateKey };
}

/** An agent's control channel, connected and welcomed. */
export class AgentChannel {
  private readonly inbox: control.ServerMessage[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: WebSocket.RawData) => {
      const message = control.parseServerMessage(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      if (message !== undefined) this.inbox.push(message);
      this.wake?.();
    });
    socket.on('close', () => this.wake?.());
    socket.on('error', () => {
      // A refused connection shows as a close.
    });
  }

  /** Connects as `instanceId`, signs the challenge with `key`, says hello with `inventory`, and waits for welcome. */
  static async connect(server: TestServer, instanceId: string, key: KeyObject, inventory: control.Inventory): Promise<AgentChannel> {
    const channel = new AgentChannel(new WebSocket(`${server.url.replace(/^http/, 'ws')}${control.CONTROL_PATH}`));
    const challenge = await channel.next('challenge');
    const signature = sign(null, Buffer.from(control.signedChallenge(challenge.nonce, instanceId), 'utf8'), key).toString('base64');
    channel.send({ type: 'hello', instanceId, signature, protocolVersion: control.CONTROL_PROTOCOL_VERSION, agentVersion: inventory.agentVersion, capabilities: ['shell'], inventory });
    await channel.next('welcome');
    return channel;
  }

  /** A heartbeat (with a new inventory, if given), answered. */
  async heartbeat(inventory?: control.Inventory): Promise<void> {
    this.send(inventory === undefined ? { type: 'heartbeat' } : { type: 'heartbeat', inventory });
    await this.next('heartbeat-ack');
  }

  close(): void {
    this.socket.close();
  }

  private send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  private next<T extends control.ServerMessage['type']>(type: T): Promise<Extract<control.ServerMessage, { type: T }>> {
    const take = async (): Promise<Extract<control.ServerMessage, { type: T }>> => {
      for (;;) {
        const message = this.inbox.shift();
        if (message !== undefined) {
          assert.equal(message.type, type, `expected ${type}, got ${JSON.stringify(message)}`);
          return message as Extract<control.ServerMessage, { type: T }>;
        }
        if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`the control channel closed while waiting for ${type}`);
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    };
    return within(take(), `a ${type} message`);
  }
}
