/**
 * What the tests of the EC2 view, instance properties and inventory share: a server with cloud
 * join on (its certificate made with openssl, as cloud-join.test.ts does), instances that join
 * through the real ssm:RegisterEC2Instance, and managed instances registered with an activation.
 * Their agents connect with control-peer.ts.
 */
import type { KeyObject } from 'node:crypto';
import { fleet } from '@airlock/protocol';
import { agentKeyPair, identityDocument, IdentitySigner, SimulatedAgent, startTestServer, type Backend, type TestServer } from '@airlock/testkit';

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
