/**
 * An agent's control channel played by hand, for the fleet tests: a WebSocket at CONTROL_PATH that
 * takes the server's messages one at a time (each of the type the test expects), says hello with
 * a signature the test chooses, and tells how it closed.
 */
import assert from 'node:assert/strict';
import { sign, type KeyObject } from 'node:crypto';
import { control } from '@airlock/protocol';
import { SIM_INVENTORY, within } from '@airlock/testkit';
import WebSocket from 'ws';

export interface ControlPeerOptions {
  /** What hello says of the host (default: the testkit's SIM_INVENTORY). */
  readonly inventory?: control.Inventory;
  /** The WebSocket's options: `localAddress` picks the source address (any of 127.0.0.0/8 reaches a loopback server). */
  readonly socket?: WebSocket.ClientOptions;
}

/** The signature over a challenge's nonce that hello carries. */
export const challengeSignature = (privateKey: KeyObject, nonce: string, instanceId: string): string =>
  sign(null, Buffer.from(control.signedChallenge(nonce, instanceId), 'utf8'), privateKey).toString('base64');

export class ControlPeer {
  private readonly inbox: control.ServerMessage[] = [];
  private readonly waiters: (() => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  private constructor(
    readonly socket: WebSocket,
    private readonly inventory: control.Inventory,
  ) {
    socket.on('message', (data: WebSocket.RawData) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
      const message = control.parseServerMessage(text);
      assert.ok(message !== undefined, 'the server sent a frame that is not a server message');
      this.inbox.push(message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString('utf8') });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    this.opened = new Promise((resolve, reject) => {
      socket.once('open', () => {
        resolve();
      });
      socket.once('error', reject);
    });
    socket.on('error', () => {
      // A refused or broken connection: 'close' says how it ended.
    });
  }

  static async open(server: { readonly url: string }, options: ControlPeerOptions = {}): Promise<ControlPeer> {
    const peer = new ControlPeer(new WebSocket(`${server.url.replace(/^http/, 'ws')}${control.CONTROL_PATH}`, options.socket), options.inventory ?? SIM_INVENTORY);
    await within(peer.opened, 'the WebSocket to open');
    return peer;
  }

  /** Opens, and answers the challenge as `instanceId` with `key` (welcome, or a close, comes next). */
  static async hello(server: { readonly url: string }, instanceId: string, key: KeyObject, options: ControlPeerOptions = {}): Promise<ControlPeer> {
    const peer = await ControlPeer.open(server, options);
    const { nonce } = await peer.next('challenge');
    peer.hello(instanceId, challengeSignature(key, nonce, instanceId));
    return peer;
  }

  /** An agent registered as `instanceId` with `key`: connected and welcomed. */
  static async connect(server: { readonly url: string }, instanceId: string, key: KeyObject, options: ControlPeerOptions = {}): Promise<ControlPeer> {
    const peer = await ControlPeer.hello(server, instanceId, key, options);
    await peer.next('welcome');
    return peer;
  }

  /** The next message from the server, which must be of this type. */
  async next<T extends control.ServerMessage['type']>(type: T): Promise<Extract<control.ServerMessage, { type: T }>> {
    const take = async (): Promise<Extract<control.ServerMessage, { type: T }>> => {
      for (;;) {
        const message = this.inbox.shift();
        if (message !== undefined) {
          assert.equal(message.type, type, `expected ${type}, got ${JSON.stringify(message)}`);
          return message as Extract<control.ServerMessage, { type: T }>;
        }
        if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`closed while waiting for ${type}`);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    };
    return within(take(), `a ${type} message`);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  hello(instanceId: string, signature: string): void {
    this.send({ type: 'hello', instanceId, signature, protocolVersion: control.CONTROL_PROTOCOL_VERSION, agentVersion: this.inventory.agentVersion, capabilities: ['shell'], inventory: this.inventory });
  }

  /** A heartbeat (with a new inventory, if given), answered. */
  async heartbeat(inventory?: control.Inventory): Promise<void> {
    this.send(inventory === undefined ? { type: 'heartbeat' } : { type: 'heartbeat', inventory });
    await this.next('heartbeat-ack');
  }

  async closedWith(code: number): Promise<string> {
    const result = await within(this.closed, `close ${code}`);
    assert.equal(result.code, code, `closed with ${result.code} (${result.reason}), not ${code}`);
    return result.reason;
  }

  close(): void {
    this.socket.close();
  }
}
