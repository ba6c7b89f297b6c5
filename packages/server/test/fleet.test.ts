/**
 * The fleet on both storage backends: activations and registration (limit, expiry, deletion,
 * concurrency, guessing), the control channel with real WebSocket clients and Ed25519 keys
 * (handshake, tampered and replayed signatures, unknown instances, malformed frames,
 * replacement), ping status with a moved clock, tags seen through DescribeInstanceInformation's
 * filters, deregistration cutting a live agent off, and the activation tier setting.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { readFile } from 'node:fs/promises';
import { AirlockApiError, AirlockClient } from '@airlock/client';
import { control, fleet, type InputOf } from '@airlock/protocol';
import { loadConfig } from '@airlock/server/config/config';
import { DEFAULT_FLEET_OPTIONS, sourceKey } from '@airlock/server/fleet/agents';
import { startServer } from '@airlock/server/server';
import { agentKeyPair, BACKENDS, MovableClock, quietLogger, refused, startTestServer, temporaryDirectory, withSchema, within, type TestServer } from '@airlock/testkit';
import type WebSocket from 'ws';
import { challengeSignature, ControlPeer } from './control-peer.js';

const DAY_S = 24 * 60 * 60;

const INVENTORY: control.Inventory = {
  platformName: 'Ubuntu',
  platformVersion: '24.04',
  kernel: '6.8.0-45-generic',
  hostname: 'web-01',
  ipAddresses: ['10.0.0.5', '192.168.1.5'],
  cpus: 2,
  memoryBytes: 4_000_000_000,
  agentVersion: '0.1.0',
};

/** The control channel by hand, saying hello with this file's INVENTORY (`socket`: the WebSocket's options). */
const open = (server: { readonly url: string }, socket: WebSocket.ClientOptions = {}): Promise<ControlPeer> => ControlPeer.open(server, { inventory: INVENTORY, socket });

/** An agent: registered, connected and welcomed. */
const connect = (server: { readonly url: string }, instanceId: string, privateKey: KeyObject, socket: WebSocket.ClientOptions = {}): Promise<ControlPeer> =>
  ControlPeer.connect(server, instanceId, privateKey, { inventory: INVENTORY, socket });

interface AuditRow {
  eventName: string;
  errorCode?: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
}

async function agentConnects(server: TestServer): Promise<AuditRow[]> {
  const rows = await server.server.services.db.selectFrom('audit_events').select('record').where('event_name', '=', 'AgentConnect').orderBy('seq').execute();
  return rows.map((row) => JSON.parse(row.record) as AuditRow);
}

/** Audit records are written without holding up the channel: wait for the one expected. */
async function audited(server: TestServer, instanceId: string, errorCode: string | undefined): Promise<AuditRow> {
  const find = async (): Promise<AuditRow> => {
    for (;;) {
      const found = (await agentConnects(server)).find((row) => row.requestParameters?.['instanceId'] === instanceId && row.errorCode === errorCode);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return within(find(), `an AgentConnect record for ${instanceId} (${errorCode ?? 'success'})`);
}

for (const backend of BACKENDS) {
  describe(`fleet on ${backend}`, () => {
    let server: TestServer;

    async function activation(input: Partial<InputOf<typeof fleet.CreateActivation>> = {}) {
      return server.root.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', ...input });
    }

    async function register(created: { ActivationId: string; ActivationCode: string }, publicKey = agentKeyPair().publicKey): Promise<string> {
      const { InstanceId } = await server.client().call(fleet.RegisterManagedInstance, {
        ActivationId: created.ActivationId,
        ActivationCode: created.ActivationCode,
        PublicKey: publicKey,
        PublicKeyType: 'Ed25519',
        Fingerprint: 'web-01',
      });
      return InstanceId;
    }

    /** A registered instance and its private key. */
    async function instance(tags?: { Key: string; Value: string }[]): Promise<{ instanceId: string; privateKey: KeyObject }> {
      const keys = agentKeyPair();
      const instanceId = await register(await activation({ DefaultInstanceName: 'web', ...(tags === undefined ? {} : { Tags: tags }) }), keys.publicKey);
      return { instanceId, privateKey: keys.privateKey };
    }

    async function info(instanceId: string) {
      const { InstanceInformationList } = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] });
      const [found] = InstanceInformationList;
      assert.ok(found !== undefined, `${instanceId} is not listed`);
      return found;
    }

    async function status(instanceId: string): Promise<string> {
      return (await server.root.call(fleet.GetConnectionStatus, { Target: instanceId })).Status;
    }

    before(async () => {
      server = await startTestServer({ backend });
    });
    after(async () => {
      await server.stop();
    });

    test('CreateActivation: defaults (limit 1, 24 hours), a code shown once, listed with its fields', async () => {
      const created = await activation({ Description: 'web servers', DefaultInstanceName: 'web', Tags: [{ Key: 'project', Value: 'Production' }] });
      assert.match(created.ActivationId, fleet.ACTIVATION_ID);
      assert.ok(created.ActivationCode.length >= 20);
      const row = await server.server.services.db.selectFrom('activations').select('code_hash').where('activation_id', '=', created.ActivationId).executeTakeFirstOrThrow();
      assert.ok(!row.code_hash.includes(created.ActivationCode), 'the code is stored only as a hash');
      const { ActivationList } = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'ActivationIds', FilterValues: [created.ActivationId] }] });
      assert.deepEqual(ActivationList, [
        {
          ActivationId: created.ActivationId,
          Description: 'web servers',
          DefaultInstanceName: 'web',
          IamRole: 'SSMServiceRole',
          RegistrationLimit: 1,
          RegistrationsCount: 0,
          ExpirationDate: server.clock.now() / 1000 + DAY_S,
          Expired: false,
          CreatedDate: server.clock.now() / 1000,
          Tags: [{ Key: 'project', Value: 'Production' }],
        },
      ]);
    });

    test('CreateActivation refuses an expiration in the past or beyond 30 days, and limits outside 1-1000', async () => {
      const now = server.clock.now() / 1000;
      await refused(activation({ ExpirationDate: now - 1 }), 'ValidationException', /in the past/);
      await refused(activation({ ExpirationDate: now + 31 * DAY_S }), 'ValidationException', /more than 30 days/);
      await refused(activation({ RegistrationLimit: 0 }), 'ValidationException', /RegistrationLimit must be at least 1/);
      await refused(activation({ RegistrationLimit: 1001 }), 'ValidationException', /RegistrationLimit must be at most 1000/);
      await refused(activation({ Tags: [{ Key: 'aws:reserved', Value: 'x' }] }), 'ValidationException', /reserved/);
      const longest = await activation({ ExpirationDate: now + 30 * DAY_S, RegistrationLimit: 1000 });
      assert.match(longest.ActivationId, fleet.ACTIVATION_ID);
    });

    test('DescribeActivations filters by IamRole and DefaultInstanceName, and pages', async () => {
      const role = `PagingRole-${backend}`;
      const ids = [];
      for (let index = 0; index < 3; index++) ids.push((await activation({ IamRole: role, DefaultInstanceName: `paged-${index}` })).ActivationId);
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'IamRole', FilterValues: [role] }], MaxResults: 2, ...(nextToken === undefined ? {} : { NextToken: nextToken }) });
        assert.ok(page.ActivationList.length <= 2);
        seen.push(...page.ActivationList.map((item) => item.ActivationId));
        nextToken = page.NextToken;
      } while (nextToken !== undefined);
      assert.deepEqual(seen.sort(), [...ids].sort());
      const byName = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'DefaultInstanceName', FilterValues: ['paged-1'] }] });
      assert.deepEqual(byName.ActivationList.map((item) => item.ActivationId), [ids[1]]);
      await refused(server.root.call(fleet.DescribeActivations, { NextToken: 'bogus' }), 'InvalidNextToken');
    });

    test('registration answers mi- and 17 hex, copies the tags, and uses up the limit', async () => {
      const created = await activation({ DefaultInstanceName: 'db', RegistrationLimit: 1, Tags: [{ Key: 'project', Value: 'Development' }, { Key: 'Name', Value: 'db' }] });
      const instanceId = await register(created);
      assert.match(instanceId, /^mi-[0-9a-f]{17}$/);
      const { TagList } = await server.root.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId });
      assert.deepEqual(TagList, [{ Key: 'Name', Value: 'db' }, { Key: 'project', Value: 'Development' }]);
      const described = await info(instanceId);
      assert.equal(described.Name, 'db');
      assert.equal(described.ActivationId, created.ActivationId);
      assert.equal(described.IamRole, 'SSMServiceRole');
      assert.equal(described.ResourceType, 'ManagedInstance');
      assert.equal(described.RegistrationDate, server.clock.now() / 1000);
      assert.equal(described.PingStatus, 'ConnectionLost', 'registered, never connected');
      await refused(register(created), 'RegistrationLimitExceeded', /RegistrationLimit/);
      const { ActivationList } = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'ActivationIds', FilterValues: [created.ActivationId] }] });
      assert.equal(ActivationList[0]?.RegistrationsCount, 1);
    });

    test('a wrong code, an expired activation and a deleted one are refused, each saying which', async () => {
      const created = await activation({ RegistrationLimit: 5 });
      await refused(register({ ...created, ActivationCode: `${created.ActivationCode.slice(0, -1)}${created.ActivationCode.endsWith('A') ? 'B' : 'A'}` }), 'InvalidActivation', /do not match/);
      const kept = await register(created);
      server.clock.advance((DAY_S + 1) * 1000);
      try {
        await refused(register(created), 'ActivationExpired', /expired at/);
        const { ActivationList } = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'ActivationIds', FilterValues: [created.ActivationId] }] });
        assert.equal(ActivationList[0]?.Expired, true);
      } finally {
        server.clock.advance(-(DAY_S + 1) * 1000);
      }
      await server.root.call(fleet.DeleteActivation, { ActivationId: created.ActivationId });
      await refused(register(created), 'InvalidActivation', /was deleted/);
      await refused(server.root.call(fleet.DeleteActivation, { ActivationId: created.ActivationId }), 'InvalidActivationId');
      const { ActivationList } = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'ActivationIds', FilterValues: [created.ActivationId] }] });
      assert.deepEqual(ActivationList, [], 'a deleted activation is not listed');
      assert.equal((await info(kept)).ActivationId, created.ActivationId, 'its instances stay');
    });

    test('a key registers once; anything but an Ed25519 SPKI key is refused', async () => {
      const created = await activation({ RegistrationLimit: 3 });
      const keys = agentKeyPair();
      await register(created, keys.publicKey);
      await refused(register(created, keys.publicKey), 'InstanceAlreadyRegistered');
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
      await refused(register(created, rsa), 'InvalidPublicKey', /Ed25519/);
      await refused(register(created, Buffer.from('not a key').toString('base64')), 'InvalidPublicKey');
    });

    test('concurrent registrations never exceed the limit', async () => {
      const created = await activation({ RegistrationLimit: 3 });
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => register(created)));
      const registered = results.filter((result) => result.status === 'fulfilled');
      const refusals = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      assert.equal(registered.length, 3);
      for (const refusal of refusals) {
        assert.ok(refusal.reason instanceof AirlockApiError);
        assert.equal(refusal.reason.code, 'RegistrationLimitExceeded', refusal.reason.message);
      }
      const { ActivationList } = await server.root.call(fleet.DescribeActivations, { Filters: [{ FilterKey: 'ActivationIds', FilterValues: [created.ActivationId] }] });
      assert.equal(ActivationList[0]?.RegistrationsCount, 3);
    });

    test('the control channel: challenge, signed hello, welcome, heartbeats; the inventory shows, Online', async () => {
      const { instanceId, privateKey } = await instance();
      const channel = await open(server);
      const challenge = await channel.next('challenge');
      assert.equal(Buffer.from(challenge.nonce, 'base64').length, 32);
      channel.hello(instanceId, challengeSignature(privateKey, challenge.nonce, instanceId));
      assert.deepEqual(await channel.next('welcome'), { type: 'welcome', heartbeatIntervalMs: 30_000 });
      await channel.heartbeat();
      const described = await info(instanceId);
      assert.deepEqual(
        { ...described, RegistrationDate: 0 },
        {
          InstanceId: instanceId,
          PingStatus: 'Online',
          LastPingDateTime: server.clock.now() / 1000,
          AgentVersion: '0.1.0',
          IsLatestVersion: true,
          PlatformType: 'Linux',
          PlatformName: 'Ubuntu',
          PlatformVersion: '24.04',
          ActivationId: described.ActivationId,
          IamRole: 'SSMServiceRole',
          RegistrationDate: 0,
          ResourceType: 'ManagedInstance',
          Name: 'web',
          IPAddress: '10.0.0.5',
          ComputerName: 'web-01',
        },
      );
      assert.equal(await status(instanceId), 'connected');
      const record = await audited(server, instanceId, undefined);
      assert.deepEqual(record.responseElements, { heartbeatIntervalMs: 30_000 });
      channel.close();
      await within(channel.closed, 'the close');
    });

    test('a tampered signature, a replayed one and an unknown instance are closed 4401 and audited', async () => {
      const { instanceId, privateKey } = await instance();
      const tampered = await open(server);
      const good = Buffer.from(challengeSignature(privateKey, (await tampered.next('challenge')).nonce, instanceId), 'base64');
      good[10] = (good[10] ?? 0) ^ 0x01;
      tampered.hello(instanceId, good.toString('base64'));
      assert.match(await tampered.closedWith(control.AgentCloseCode.Unauthorized), /signature/);
      await audited(server, instanceId, 'InvalidSignature');

      const earlier = await open(server);
      const replayable = challengeSignature(privateKey, (await earlier.next('challenge')).nonce, instanceId);
      earlier.hello(instanceId, replayable);
      await earlier.next('welcome');
      const replay = await open(server);
      await replay.next('challenge');
      replay.hello(instanceId, replayable);
      await replay.closedWith(control.AgentCloseCode.Unauthorized);
      // The refused replay did not take the instance's place.
      await earlier.heartbeat();
      earlier.close();

      const stranger = await open(server);
      const unknown = 'mi-00000000000000000';
      stranger.hello(unknown, challengeSignature(agentKeyPair().privateKey, (await stranger.next('challenge')).nonce, unknown));
      assert.match(await stranger.closedWith(control.AgentCloseCode.Unauthorized), /not registered/);
      await audited(server, unknown, 'InvalidInstanceId');
    });

    test('Online → ConnectionLost after three missed heartbeats → Online after a heartbeat; ConnectionLost on disconnect', async () => {
      const { instanceId, privateKey } = await instance();
      const channel = await connect(server, instanceId, privateKey);
      assert.equal((await info(instanceId)).PingStatus, 'Online');
      server.clock.advance(3 * 30_000 + 1);
      assert.equal((await info(instanceId)).PingStatus, 'ConnectionLost');
      assert.equal(await status(instanceId), 'notconnected');
      const lost = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'PingStatus', Values: ['ConnectionLost'] }], MaxResults: 50 });
      assert.ok(lost.InstanceInformationList.some((item) => item.InstanceId === instanceId));
      await channel.heartbeat();
      const back = await info(instanceId);
      assert.equal(back.PingStatus, 'Online');
      assert.equal(back.LastPingDateTime, server.clock.now() / 1000);
      assert.equal(await status(instanceId), 'connected');
      const online = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'PingStatus', Values: ['Online'] }, { Key: 'InstanceIds', Values: [instanceId] }] });
      assert.deepEqual(online.InstanceInformationList.map((item) => item.InstanceId), [instanceId]);
      channel.close();
      await within(channel.closed, 'the close');
      const gone = async (): Promise<void> => {
        while ((await info(instanceId)).PingStatus !== 'ConnectionLost') await new Promise((resolve) => setTimeout(resolve, 20));
      };
      await within(gone(), 'ConnectionLost after the disconnect');
      assert.equal(await status(instanceId), 'notconnected');
    });

    test("tags an administrator changes show in DescribeInstanceInformation's tag filters", async () => {
      const { instanceId } = await instance([{ Key: 'Name', Value: `tagged-${backend}` }]);
      const byTag = async (key: string, values: string[]): Promise<string[]> =>
        (await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: key, Values: values }, { Key: 'InstanceIds', Values: [instanceId] }] })).InstanceInformationList.map(
          (item) => item.InstanceId,
        );
      assert.deepEqual(await byTag('tag:project', ['Production']), []);
      await server.root.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, Tags: [{ Key: 'project', Value: 'Production' }] });
      assert.deepEqual(await byTag('tag:project', ['Production']), [instanceId]);
      assert.deepEqual(await byTag('tag:project', ['Development', 'Production']), [instanceId]);
      assert.deepEqual(await byTag('tag-key', ['project']), [instanceId]);
      await server.root.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, Tags: [{ Key: 'project', Value: 'Development' }] });
      assert.deepEqual(await byTag('tag:project', ['Production']), []);
      assert.deepEqual(await byTag('tag:project', ['Development']), [instanceId]);
      const everyone = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'tag:Name', Values: [`tagged-${backend}`] }, { Key: 'tag:project', Values: ['Development'] }] });
      assert.deepEqual(everyone.InstanceInformationList.map((item) => item.InstanceId), [instanceId]);
      await server.root.call(fleet.RemoveTagsFromResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, TagKeys: ['project'] });
      assert.deepEqual(await byTag('tag-key', ['project']), []);
      assert.deepEqual((await server.root.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId })).TagList, [{ Key: 'Name', Value: `tagged-${backend}` }]);
      await refused(server.root.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: 'mi-00000000000000000' }), 'InvalidResourceId');
      await refused(server.root.call(fleet.ListTagsForResource, { ResourceType: 'Document', ResourceId: 'AWS-StartSSHSession' }), 'InvalidResourceType');
      const many = Array.from({ length: fleet.MAX_TAGS }, (_, index) => ({ Key: `k${index}`, Value: 'v' }));
      await refused(server.root.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, Tags: many }), 'TooManyTagsError');
    });

    test('deregistration tells the agent, closes it 4403, and a reconnect is refused for good', async () => {
      const { instanceId, privateKey } = await instance();
      const channel = await connect(server, instanceId, privateKey);
      await server.root.call(fleet.DeregisterManagedInstance, { InstanceId: instanceId });
      await channel.next('deregistered');
      await channel.closedWith(control.AgentCloseCode.Deregistered);
      const described = await info(instanceId);
      assert.equal(described.PingStatus, 'Inactive');
      assert.equal(await status(instanceId), 'notconnected');
      const again = await open(server);
      again.hello(instanceId, challengeSignature(privateKey, (await again.next('challenge')).nonce, instanceId));
      await again.next('deregistered');
      await again.closedWith(control.AgentCloseCode.Deregistered);
      await audited(server, instanceId, 'InstanceDeregistered');
      const row = await server.server.services.db.selectFrom('instances').select('public_key').where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
      assert.equal(row.public_key, null, 'the key is revoked');
      await refused(server.root.call(fleet.DeregisterManagedInstance, { InstanceId: instanceId }), 'InvalidInstanceId', /already/);
      await refused(server.root.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, Tags: [{ Key: 'a', Value: 'b' }] }), 'InvalidResourceId');
      await refused(server.root.call(fleet.DeregisterManagedInstance, { InstanceId: 'mi-00000000000000000' }), 'InvalidInstanceId');
      const inactive = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'PingStatus', Values: ['Inactive'] }], MaxResults: 50 });
      assert.ok(inactive.InstanceInformationList.some((item) => item.InstanceId === instanceId));
    });

    test('a malformed frame closes that connection 4400 only; so do a binary frame, a heartbeat before hello and a second hello', async () => {
      const first = await instance();
      const second = await instance();
      const bystander = await connect(server, second.instanceId, second.privateKey);
      const broken = await connect(server, first.instanceId, first.privateKey);
      broken.send('{"type": "heartbeat", "inventory": 7}');
      await broken.closedWith(control.AgentCloseCode.Malformed);
      await bystander.heartbeat();
      await audited(server, first.instanceId, 'MalformedFrame');

      const early = await open(server);
      await early.next('challenge');
      early.send({ type: 'heartbeat' });
      await early.closedWith(control.AgentCloseCode.Malformed);

      const binary = await open(server);
      await binary.next('challenge');
      binary.socket.send(Buffer.from([1, 2, 3]));
      await binary.closedWith(control.AgentCloseCode.Malformed);

      const twice = await connect(server, first.instanceId, first.privateKey);
      twice.hello(first.instanceId, 'AAAA');
      await twice.closedWith(control.AgentCloseCode.Malformed);

      const huge = await open(server);
      await huge.next('challenge');
      huge.send('x'.repeat(70 * 1024));
      await huge.closedWith(1009);

      await bystander.heartbeat();
      assert.equal(await status(second.instanceId), 'connected');
      bystander.close();
    });

    test('a newer connection of the same instance replaces the older (4409)', async () => {
      const { instanceId, privateKey } = await instance();
      const older = await connect(server, instanceId, privateKey);
      const newer = await connect(server, instanceId, privateKey);
      await older.closedWith(control.AgentCloseCode.Replaced);
      await newer.heartbeat();
      assert.equal(await status(instanceId), 'connected');
      newer.close();
    });

    test('two agents on one host (the same fingerprint) are two instances, both Online', async () => {
      const created = await activation({ RegistrationLimit: 2 });
      const one = agentKeyPair();
      const two = agentKeyPair();
      const first = await register(created, one.publicKey);
      const second = await register(created, two.publicKey);
      assert.notEqual(first, second);
      const channels = [await connect(server, first, one.privateKey), await connect(server, second, two.privateKey)];
      assert.deepEqual([await status(first), await status(second)], ['connected', 'connected']);
      for (const channel of channels) channel.close();
    });

    test('last pings and inventory reach the database in batches; changes made through another node apply here', async () => {
      const { instanceId, privateKey } = await instance();
      const { db, agents } = server.server.services;
      const channel = await connect(server, instanceId, privateKey);
      server.clock.advance(1_000);
      await channel.heartbeat({ ...INVENTORY, hostname: 'web-01b', platformVersion: '24.10' });
      const before = await db.selectFrom('instances').select(['last_ping_at', 'computer_name']).where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
      assert.equal(before.last_ping_at, server.clock.now() - 1_000, 'a heartbeat writes nothing by itself');
      await agents.tick();
      const written = await db.selectFrom('instances').select(['last_ping_at', 'computer_name', 'platform_version']).where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
      assert.deepEqual(written, { last_ping_at: server.clock.now(), computer_name: 'web-01b', platform_version: '24.10' });

      // Another node deregistered the instance: the next tick here cuts the agent off.
      await db.updateTable('instances').set({ deregistered_at: server.clock.now(), public_key: null }).where('instance_id', '=', instanceId).execute();
      await agents.tick();
      await channel.next('deregistered');
      await channel.closedWith(control.AgentCloseCode.Deregistered);

      // The agent reconnected through another node: the connection here is replaced.
      const other = await instance();
      const local = await connect(server, other.instanceId, other.privateKey);
      await db.updateTable('instances').set({ connection_id: 'elsewhere', connected_node: 'another-node', connected_at: server.clock.now() }).where('instance_id', '=', other.instanceId).execute();
      await agents.tick();
      await local.closedWith(control.AgentCloseCode.Replaced);
      assert.equal((await info(other.instanceId)).PingStatus, 'Online', 'held by the other node, which heartbeats recently');
    });

    test('no hello in time: closed 4401', async () => {
      server.server.services.agents.configure({ helloTimeoutMs: 150 });
      try {
        const silent = await open(server);
        await silent.next('challenge');
        assert.match(await silent.closedWith(control.AgentCloseCode.Unauthorized), /no hello/);
      } finally {
        server.server.services.agents.configure({ helloTimeoutMs: 10_000 });
      }
    });

    test('connections waiting for hello are capped per address and per node (4429); agents that said hello do not count', async () => {
      const agents = server.server.services.agents;
      const pendingNow = async (count: number): Promise<void> => {
        while (agents.pending !== count) await new Promise((resolve) => setTimeout(resolve, 10));
      };
      await within(pendingNow(0), 'no connection pending from earlier tests');
      const from = (localAddress: string): WebSocket.ClientOptions => ({ localAddress });
      const [first, second, third] = [await instance(), await instance(), await instance()];
      const established = await connect(server, first.instanceId, first.privateKey, from('127.0.0.1'));
      agents.configure({ maxPendingPerSource: 3, maxPendingConnections: 5, helloTimeoutMs: 1_500 });
      const silent: ControlPeer[] = [];
      try {
        // Three silent connections from 127.0.0.1 fill its share; a fourth is closed before any challenge.
        for (let index = 0; index < 3; index++) {
          const channel = await open(server, from('127.0.0.1'));
          await channel.next('challenge');
          silent.push(channel);
        }
        assert.equal(agents.pending, 3);
        const overSource = await open(server, from('127.0.0.1'));
        assert.match(await overSource.closedWith(control.AgentCloseCode.TooManyPending), /too many connections waiting/);
        await assert.rejects(overSource.next('challenge'), /closed while waiting/, 'refused before any challenge');

        // The agent already welcomed is not pending: it heartbeats on. Another address still gets in, and
        // an agent from it that completes hello stops counting at once.
        await established.heartbeat();
        const agent = await connect(server, second.instanceId, second.privateKey, from('127.0.0.2'));
        await agent.heartbeat();
        assert.equal(agents.pending, 3);

        // Two more silent connections from 127.0.0.2 fill the node; then any address is refused.
        for (let index = 0; index < 2; index++) {
          const channel = await open(server, from('127.0.0.2'));
          await channel.next('challenge');
          silent.push(channel);
        }
        assert.equal(agents.pending, 5);
        const overNode = await open(server, from('127.0.0.3'));
        await overNode.closedWith(control.AgentCloseCode.TooManyPending);
        assert.ok(
          server.log.lines.some((line) => /control connections? refused \(4429\)/.test(line)),
          'the refusals are logged',
        );
        await established.heartbeat();

        // A silent connection that goes frees its place: an agent takes it and is welcomed.
        const leaving = silent.shift();
        assert.ok(leaving !== undefined);
        leaving.close();
        await within(leaving.closed, 'a silent connection to close');
        await within(pendingNow(4), 'the closed connection to stop counting');
        const late = await connect(server, third.instanceId, third.privateKey, from('127.0.0.3'));
        await late.heartbeat();

        // The rest time out (4401), and nothing is left counted.
        for (const channel of silent.splice(0)) assert.match(await channel.closedWith(control.AgentCloseCode.Unauthorized), /no hello/);
        await within(pendingNow(0), 'the timed-out connections to stop counting');
        for (const channel of [established, agent, late]) {
          channel.close();
          await within(channel.closed, 'the close');
        }
      } finally {
        for (const channel of silent) channel.close();
        agents.configure({ maxPendingPerSource: DEFAULT_FLEET_OPTIONS.maxPendingPerSource, maxPendingConnections: DEFAULT_FLEET_OPTIONS.maxPendingConnections, helloTimeoutMs: 10_000 });
      }
    });

    test('DescribeInstanceInformation: pages, the legacy filter list, and bad filters', async () => {
      const created = await activation({ RegistrationLimit: 7, DefaultInstanceName: 'paged' });
      const ids: string[] = [];
      for (let index = 0; index < 7; index++) ids.push(await register(created));
      const seen: string[] = [];
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const page = await server.root.call(fleet.DescribeInstanceInformation, {
          Filters: [{ Key: 'ActivationIds', Values: [created.ActivationId] }],
          MaxResults: 5,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        });
        seen.push(...page.InstanceInformationList.map((item) => item.InstanceId));
        nextToken = page.NextToken;
        pages++;
      } while (nextToken !== undefined);
      assert.equal(pages, 2);
      assert.deepEqual(seen, [...ids].sort());
      const withPing = await server.root.call(fleet.DescribeInstanceInformation, {
        Filters: [{ Key: 'ActivationIds', Values: [created.ActivationId] }, { Key: 'PingStatus', Values: ['ConnectionLost'] }],
        MaxResults: 5,
      });
      assert.equal(withPing.InstanceInformationList.length, 5);
      assert.ok(withPing.NextToken !== undefined);
      const legacy = await server.root.call(fleet.DescribeInstanceInformation, { InstanceInformationFilterList: [{ key: 'ActivationIds', valueSet: [created.ActivationId] }], MaxResults: 50 });
      assert.equal(legacy.InstanceInformationList.length, 7);
      await refused(server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'Colour', Values: ['blue'] }] }), 'InvalidFilterKey');
      await refused(server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'PingStatus', Values: ['Asleep'] }] }), 'InvalidInstanceInformationFilterValue');
      await refused(server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: ['web-01'] }] }), 'InvalidInstanceInformationFilterValue');
      await refused(
        server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'PingStatus', Values: ['Online'] }], InstanceInformationFilterList: [{ key: 'PingStatus', valueSet: ['Online'] }] }),
        'ValidationException',
        /not both/,
      );
      await refused(server.root.call(fleet.DescribeInstanceInformation, { MaxResults: 4 }), 'ValidationException');
      await refused(server.root.call(fleet.DescribeInstanceInformation, { NextToken: 'bogus' }), 'InvalidNextToken');
      assert.equal((await server.root.call(fleet.GetConnectionStatus, { Target: 'not-an-instance' })).Status, 'notconnected');
    });

    test('the activation tier: standard by default, advanced after an update (PendingUpdate, then Customized), Default after a reset', async () => {
      const path = fleet.ACTIVATION_TIER_SETTING;
      const initial = (await server.root.call(fleet.GetServiceSetting, { SettingId: path })).ServiceSetting;
      assert.deepEqual(initial, { SettingId: path, SettingValue: 'standard', LastModifiedUser: 'System', ARN: initial.ARN, Status: 'Default' });
      assert.match(initial.ARN, new RegExp(`^arn:aws:ssm:local:\\d{12}:servicesetting${path}$`));
      await server.root.call(fleet.UpdateServiceSetting, { SettingId: initial.ARN, SettingValue: 'advanced' });
      const pending = (await server.root.call(fleet.GetServiceSetting, { SettingId: path })).ServiceSetting;
      assert.equal(pending.SettingValue, 'advanced');
      assert.equal(pending.Status, 'PendingUpdate');
      assert.match(pending.LastModifiedUser, /^arn:aws:iam::\d{12}:root$/);
      server.clock.advance(60_000);
      assert.equal((await server.root.call(fleet.GetServiceSetting, { SettingId: initial.ARN })).ServiceSetting.Status, 'Customized');
      await refused(server.root.call(fleet.UpdateServiceSetting, { SettingId: path, SettingValue: 'premium' }), 'ValidationException', /standard or advanced/);
      await refused(server.root.call(fleet.GetServiceSetting, { SettingId: '/ssm/parameter-store/high-throughput-enabled' }), 'ServiceSettingNotFound');
      await refused(server.root.call(fleet.GetServiceSetting, { SettingId: `arn:aws:ssm:elsewhere:111122223333:servicesetting${path}` }), 'ServiceSettingNotFound');
      const reset = (await server.root.call(fleet.ResetServiceSetting, { SettingId: path })).ServiceSetting;
      assert.equal(reset.SettingValue, 'standard');
      assert.equal(reset.Status, 'Default');
    });

    test('registration guesses from one address are throttled', async () => {
      const created = await activation({ RegistrationLimit: 2 });
      const wrong = { ...created, ActivationCode: 'x'.repeat(20) };
      let throttled = false;
      for (let attempt = 0; attempt < 12 && !throttled; attempt++) {
        try {
          await register(wrong);
          assert.fail('a wrong code registered');
        } catch (error) {
          assert.ok(error instanceof AirlockApiError);
          throttled = error.code === 'ThrottlingException';
          if (!throttled) assert.equal(error.code, 'InvalidActivation');
        }
      }
      assert.ok(throttled, 'guessing is throttled');
      await refused(register(created), 'ThrottlingException', /try again in \d+ seconds/);
      server.clock.advance(16 * 60_000);
      assert.match(await register(created), /^mi-/);
    });
  });

  test(`on ${backend}: an agent reconnects after a server restart, and its registration holds`, async () => {
    const directory = await temporaryDirectory();
    const schema = backend === 'postgres' ? await withSchema() : undefined;
    const flags = new Map([['data-dir', directory.path], ['listen', '127.0.0.1:0'], ...(schema === undefined ? [] : [['database-url', schema.url] as [string, string]])]);
    const clock = new MovableClock(Date.now());
    const start = () => startServer(loadConfig(flags, {}), { clock, log: quietLogger() });
    try {
      const first = await start();
      const root = new AirlockClient({ endpointUrl: first.url, token: (await readFile(`${directory.path}/root-token`, 'utf8')).trim() });
      const created = await root.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole' });
      const keys = agentKeyPair();
      const { InstanceId } = await new AirlockClient({ endpointUrl: first.url }).call(fleet.RegisterManagedInstance, {
        ActivationId: created.ActivationId,
        ActivationCode: created.ActivationCode,
        PublicKey: keys.publicKey,
        PublicKeyType: 'Ed25519',
        Fingerprint: 'restart-host',
      });
      const channel = await connect(first, InstanceId, keys.privateKey);
      await first.close();
      await channel.closedWith(1001);

      const second = await start();
      try {
        const again = new AirlockClient({ endpointUrl: second.url, token: (await readFile(`${directory.path}/root-token`, 'utf8')).trim() });
        const lost = await again.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [InstanceId] }] });
        assert.equal(lost.InstanceInformationList[0]?.PingStatus, 'ConnectionLost');
        const back = await connect(second, InstanceId, keys.privateKey);
        const online = await again.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [InstanceId] }] });
        assert.equal(online.InstanceInformationList[0]?.PingStatus, 'Online');
        back.close();
      } finally {
        await second.close();
      }
    } finally {
      await schema?.drop();
      await directory.remove();
    }
  });
}

test('pending control connections are counted by IPv4 address, or by IPv6 /64', () => {
  assert.equal(sourceKey('203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(sourceKey('2001:db8:0:12:aaaa::1'), '2001:db8:0:12::/64');
  assert.equal(sourceKey('2001:0db8:0000:0012:bbbb:cccc:dddd:eeee'), '2001:db8:0:12::/64');
  assert.equal(sourceKey('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
});
