/**
 * Cloud join through the API, on both storage backends: an EC2 instance registers with its
 * identity document (signed by the openssl CLI with a test certificate the server is configured
 * with) under its own i- id, account, region, address and tags, and its agent connects over the
 * control channel. A forged or tampered document, an account not on the list, a document too old
 * are refused with AWS-shaped errors and audited; a new key needs a later launch; a deregistered
 * instance never returns. Also: the settings, checked at start.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cloudtrail, control, fleet, type InputOf } from '@airlock/protocol';
import { ConfigError, loadConfig } from '@airlock/server/config/config';
import { agentKeyPair, BACKENDS, identityDocument, IdentitySigner, openssl, refused, startTestServer, temporaryDirectory, type InstanceIdentityFields, type TestServer } from '@airlock/testkit';
import { ControlPeer } from './control-peer.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const OTHER_ACCOUNT = '210987654321';

const INVENTORY: control.Inventory = {
  platformName: 'Amazon Linux',
  platformVersion: '2023',
  kernel: '6.1.0',
  hostname: 'ip-10-0-0-10',
  ipAddresses: ['10.0.0.10'],
  cpus: 2,
  memoryBytes: 4_000_000_000,
  agentVersion: '0.1.0',
};

let serial = 0;
/** A fresh instance id, 17 hex digits. */
function newInstanceId(): string {
  serial += 1;
  return `i-0${Date.now().toString(16).padStart(12, '0').slice(-12)}${serial.toString(16).padStart(4, '0')}`;
}

type RegisterInput = InputOf<typeof fleet.RegisterEC2Instance>;

for (const backend of BACKENDS) {
  describe(`cloud join on ${backend}`, () => {
    let aws: IdentitySigner;
    let forger: IdentitySigner;
    let server: TestServer;
    let account: string;

    before(async () => {
      [aws, forger] = await Promise.all([IdentitySigner.create(), IdentitySigner.create()]);
      const first = await startTestServer({ backend });
      // The instances join the management account: its id is known after the first start.
      account = first.server.services.accountId;
      server = await first.restart({ flags: { 'cloud-join-certificates': aws.certificateFile, 'cloud-join-accounts': `${account}, ${OTHER_ACCOUNT}`, 'cloud-join-max-age': '30d' } });
    });
    after(async () => {
      await server.stop();
      await Promise.all([aws.remove(), forger.remove()]);
    });

    const identity = (fields: Partial<InstanceIdentityFields> = {}): InstanceIdentityFields => ({
      accountId: account,
      instanceId: newInstanceId(),
      region: 'eu-west-1',
      privateIp: '10.0.0.10',
      pendingTime: new Date(server.clock.now() - 60_000),
      ...fields,
    });
    /** The document and its /rsa2048 signature, by `signer`. */
    const signed = async (fields: InstanceIdentityFields, signer = aws): Promise<Pick<RegisterInput, 'IdentityDocument' | 'IdentityDocumentSignature'>> => {
      const document = identityDocument(fields);
      return { IdentityDocument: document, IdentityDocumentSignature: (await signer.pkcs7(document)).toString('base64') };
    };
    const register = (input: Omit<RegisterInput, 'PublicKeyType' | 'Fingerprint'> & Partial<RegisterInput>) =>
      server.client().call(fleet.RegisterEC2Instance, { PublicKeyType: 'Ed25519', Fingerprint: 'ip-10-0-0-10', ...input });
    const describeOne = async (instanceId: string) => {
      const { InstanceInformationList } = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] });
      return InstanceInformationList[0];
    };

    test('an instance joins as itself: i-…, EC2Instance, its account, region, address and tags; its agent connects Online', async () => {
      const fields = identity({ privateIp: '10.0.3.7' });
      const key = agentKeyPair();
      const { InstanceId } = await register({ ...(await signed(fields)), PublicKey: key.publicKey, Tags: [{ Key: 'Name', Value: 'web-1' }, { Key: 'env', Value: 'prod' }] });
      assert.equal(InstanceId, fields.instanceId);

      const info = await describeOne(InstanceId);
      assert.ok(info !== undefined);
      assert.equal(info.ResourceType, 'EC2Instance');
      assert.equal(info.IPAddress, '10.0.3.7');
      assert.equal(info.PingStatus, 'ConnectionLost');
      assert.equal(info.ActivationId, undefined);
      const tagged = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'tag:env', Values: ['prod'] }, { Key: 'ResourceType', Values: ['EC2Instance'] }] });
      assert.deepEqual(tagged.InstanceInformationList.map((item) => item.InstanceId), [InstanceId]);
      const row = await server.server.services.db.selectFrom('instances').selectAll().where('instance_id', '=', InstanceId).executeTakeFirstOrThrow();
      assert.equal(row.account_id, account);
      assert.equal(row.region, 'eu-west-1');
      assert.equal(row.launched_at, Math.floor((fields.pendingTime?.getTime() ?? 0) / 1000) * 1000, 'pendingTime, to the second as documents have it');
      const tags = await server.server.services.db.selectFrom('instance_tags').select(['key', 'value']).where('instance_id', '=', InstanceId).orderBy('key').execute();
      assert.deepEqual(tags, [{ key: 'Name', value: 'web-1' }, { key: 'env', value: 'prod' }]);

      const agent = await ControlPeer.hello(server, InstanceId, key.privateKey, { inventory: INVENTORY });
      await agent.next('welcome');
      assert.equal((await describeOne(InstanceId))?.PingStatus, 'Online');
      assert.equal((await server.root.call(fleet.GetConnectionStatus, { Target: InstanceId })).Status, 'connected');
      agent.close();

      // The bare RSA-SHA256 signature (the /signature form) joins too.
      const other = identity();
      const document = identityDocument(other);
      const bare = await register({ IdentityDocument: document, IdentityDocumentSignature: (await aws.rsaSignature(document)).toString('base64'), SignatureFormat: 'RSA-SHA256', PublicKey: agentKeyPair().publicKey });
      assert.equal(bare.InstanceId, other.instanceId);
    });

    test('a forged document, a tampered one, or an account not on the list is refused, registers nothing, and is audited', async () => {
      const forged = identity();
      await refused(register({ ...(await signed(forged, forger)), PublicKey: agentKeyPair().publicKey }), 'InvalidIdentityDocumentSignature', /does not verify with any configured certificate/);

      // The document changed after signing (another instance id): it is not the signed one.
      const genuine = identity();
      const original = await signed(genuine);
      const swapped = identityDocument({ ...genuine, instanceId: newInstanceId() });
      await refused(register({ ...original, IdentityDocument: swapped, PublicKey: agentKeyPair().publicKey }), 'InvalidIdentityDocument', /differs from the one its PKCS7 signature holds/);

      // The signed content itself altered (inside the PKCS7), with the document to match.
      const pkcs7 = await aws.pkcs7(identityDocument(genuine), { der: true });
      const at = pkcs7.indexOf(Buffer.from(genuine.instanceId));
      const replacement = genuine.instanceId.endsWith('f') ? 'e' : 'f';
      const altered = Buffer.from(pkcs7);
      altered.write(replacement, at + genuine.instanceId.length - 1, 'latin1');
      const alteredDocument = identityDocument({ ...genuine, instanceId: `${genuine.instanceId.slice(0, -1)}${replacement}` });
      await refused(register({ IdentityDocument: alteredDocument, IdentityDocumentSignature: altered.toString('base64'), PublicKey: agentKeyPair().publicKey }), 'InvalidIdentityDocumentSignature', /altered/);

      const stranger = identity({ accountId: '999988887777' });
      await refused(register({ ...(await signed(stranger)), PublicKey: agentKeyPair().publicKey }), 'AccessDeniedException', /AWS account 999988887777 may not join this server/);

      for (const instanceId of [forged.instanceId, genuine.instanceId, stranger.instanceId]) assert.equal(await describeOne(instanceId), undefined);

      const { Events } = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'RegisterEC2Instance' }], MaxResults: 50 });
      const records = Events.map((event) => JSON.parse(event.CloudTrailEvent) as { errorCode?: string; requestParameters: Record<string, unknown>; sourceIPAddress: string });
      const codes = records.map((record) => record.errorCode).filter((code) => code !== undefined);
      for (const code of ['InvalidIdentityDocumentSignature', 'InvalidIdentityDocument', 'AccessDeniedException']) assert.ok(codes.includes(code), `${code} audited: ${codes.join(', ')}`);
      const refusal = records.find((record) => record.errorCode === 'AccessDeniedException');
      assert.ok(refusal !== undefined);
      assert.equal(refusal.requestParameters['IdentityDocumentSignature'], 'HIDDEN_DUE_TO_SECURITY_REASONS', 'the signature (with the document, a credential) is not kept');
      assert.match(String(refusal.requestParameters['IdentityDocument']), /999988887777/);
    });

    test('a new key for a registered instance: refused for the same launch, replaces the old one for a later launch; deregistered is for good', async () => {
      const launch = identity({ pendingTime: new Date(server.clock.now() - 3_600_000) });
      const first = agentKeyPair();
      const document = await signed(launch);
      const { InstanceId } = await register({ ...document, PublicKey: first.publicKey, Tags: [{ Key: 'env', Value: 'staging' }] });
      const agent = await ControlPeer.hello(server, InstanceId, first.privateKey, { inventory: INVENTORY });
      await agent.next('welcome');

      // A captured document (this launch's) does not take the instance over, with any key.
      const thief = agentKeyPair();
      await refused(register({ ...document, PublicKey: thief.publicKey }), 'InstanceAlreadyRegistered', /only with the document of a later launch: stop and start the instance/);
      await refused(register({ ...document, PublicKey: first.publicKey }), 'InstanceAlreadyRegistered', /already registered/);

      // A stop and start: a later pendingTime. The new key replaces the old one, whose agent is cut off.
      const relaunch = { ...launch, pendingTime: new Date(server.clock.now() - 60_000) };
      const second = agentKeyPair();
      assert.equal((await register({ ...(await signed(relaunch)), PublicKey: second.publicKey, Tags: [{ Key: 'env', Value: 'production' }] })).InstanceId, InstanceId);
      assert.equal((await agent.closed).code, control.AgentCloseCode.Unauthorized);
      const stale = await ControlPeer.hello(server, InstanceId, first.privateKey, { inventory: INVENTORY });
      assert.equal((await stale.closed).code, control.AgentCloseCode.Unauthorized, 'the old key is refused');
      const current = await ControlPeer.hello(server, InstanceId, second.privateKey, { inventory: INVENTORY });
      await current.next('welcome');
      const tags = await server.server.services.db.selectFrom('instance_tags').select(['key', 'value']).where('instance_id', '=', InstanceId).execute();
      assert.deepEqual(tags, [{ key: 'env', value: 'production' }], 'the tags are the ones the metadata service shows now');
      // The earlier launch's document is older than the one registered now.
      await refused(register({ ...document, PublicKey: agentKeyPair().publicKey }), 'InstanceAlreadyRegistered');

      // Deregistered: the agent is told to stop, and no document, however new, brings it back.
      await server.root.call(fleet.DeregisterManagedInstance, { InstanceId });
      await current.next('deregistered');
      assert.equal((await current.closed).code, control.AgentCloseCode.Deregistered);
      assert.equal((await describeOne(InstanceId))?.PingStatus, 'Inactive');
      const later = { ...launch, pendingTime: new Date(server.clock.now()) };
      await refused(register({ ...(await signed(later)), PublicKey: agentKeyPair().publicKey }), 'InvalidInstanceId', /never registers again/);
    });

    test('an instance launched longer ago than cloudJoinMaxAge, or in the future, is refused', async () => {
      const old = identity({ pendingTime: new Date(server.clock.now() - 31 * DAY_MS) });
      await refused(register({ ...(await signed(old)), PublicKey: agentKeyPair().publicKey }), 'InvalidIdentityDocument', /only instances launched in the last 30 days/);
      const future = identity({ pendingTime: new Date(server.clock.now() + 3_600_000) });
      await refused(register({ ...(await signed(future)), PublicKey: agentKeyPair().publicKey }), 'InvalidIdentityDocument', /in the future/);
      // Another allowed AWS account with no Airlock account of its id joins the management account, where people see it.
      const elsewhere = identity({ accountId: OTHER_ACCOUNT });
      const { InstanceId } = await register({ ...(await signed(elsewhere)), PublicKey: agentKeyPair().publicKey });
      const row = await server.server.services.db.selectFrom('instances').select('account_id').where('instance_id', '=', InstanceId).executeTakeFirstOrThrow();
      assert.equal(row.account_id, server.server.services.accountId);
      assert.equal((await describeOne(InstanceId))?.ResourceType, 'EC2Instance');
    });
  });
}

test('cloud join is off unless certificates are configured', async () => {
  const server = await startTestServer();
  const signer = await IdentitySigner.create();
  try {
    const document = identityDocument({ accountId: server.server.services.accountId, instanceId: 'i-0123456789abcdef0', region: 'us-east-1' });
    await refused(
      server.client().call(fleet.RegisterEC2Instance, {
        IdentityDocument: document,
        IdentityDocumentSignature: (await signer.pkcs7(document)).toString('base64'),
        PublicKey: agentKeyPair().publicKey,
        PublicKeyType: 'Ed25519',
        Fingerprint: 'host',
      }),
      'UnsupportedOperationException',
      /Cloud join is off on this server/,
    );
  } finally {
    await signer.remove();
    await server.stop();
  }
});

test('the cloud join settings are checked at start, each error naming its setting', async () => {
  const dir = await temporaryDirectory();
  const signer = await IdentitySigner.create();
  try {
    const load = (flags: Record<string, string>, env: Record<string, string> = {}) => loadConfig(new Map(Object.entries({ 'data-dir': dir.path, ...flags })), env);
    const fails = (flags: Record<string, string>, message: RegExp, env: Record<string, string> = {}) => {
      assert.throws(() => load(flags, env), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    };
    assert.equal(load({}).cloudJoin, undefined);
    const bundle = join(dir.path, 'aws.pem');
    await writeFile(bundle, `${signer.certificatePem}\n${signer.certificatePem}`);
    const config = load({ 'cloud-join-certificates': `${signer.certificateFile},${bundle}`, 'cloud-join-accounts': '123456789012,210987654321', 'cloud-join-max-age': '2h' });
    const cloudJoin = config.cloudJoin;
    assert.ok(cloudJoin !== undefined);
    assert.equal(cloudJoin.certificates.length, 3);
    assert.deepEqual([...cloudJoin.accounts], ['123456789012', '210987654321']);
    assert.equal(cloudJoin.maxAgeMs, 7_200_000);
    assert.equal(load({ 'cloud-join-certificates': bundle, 'cloud-join-accounts': '123456789012' }).cloudJoin?.maxAgeMs, undefined);

    fails({ 'cloud-join-certificates': bundle }, /--cloud-join-certificates turns cloud join on, and it needs --cloud-join-accounts/);
    fails({ 'cloud-join-accounts': '123456789012' }, /--cloud-join-accounts is a cloud join setting, and cloud join is off/);
    fails({ 'cloud-join-certificates': bundle }, /AIRLOCK_CLOUD_JOIN_ACCOUNTS: "1234" is not an AWS account id/, { AIRLOCK_CLOUD_JOIN_ACCOUNTS: '1234' });
    fails({ 'cloud-join-certificates': join(dir.path, 'missing.pem'), 'cloud-join-accounts': '123456789012' }, /--cloud-join-certificates: cannot read .*missing\.pem/);
    await writeFile(join(dir.path, 'empty.pem'), 'not a certificate');
    fails({ 'cloud-join-certificates': join(dir.path, 'empty.pem'), 'cloud-join-accounts': '123456789012' }, /holds no PEM certificate/);
    fails({ 'cloud-join-certificates': bundle, 'cloud-join-accounts': '123456789012', 'cloud-join-max-age': 'soon' }, /--cloud-join-max-age must be a positive number of seconds/);
    const ecKey = join(dir.path, 'ec.pem');
    const ecCertificate = join(dir.path, 'ec-certificate.pem');
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ecKey]);
    await openssl(['req', '-x509', '-new', '-key', ecKey, '-out', ecCertificate, '-days', '1', '-subj', '/O=EC']);
    fails({ 'cloud-join-certificates': ecCertificate, 'cloud-join-accounts': '123456789012' }, /has a ec key; AWS signs identity documents with RSA or DSA/);
  } finally {
    await signer.remove();
    await dir.remove();
  }
});
