/**
 * Cloud join from the agent's side: reading the identity through IMDSv2 from the metadata
 * emulator (@airlock/testkit, signing with the openssl CLI), its failures in words, and the
 * real thing: `airlock-agent register --cloud` against a real server with cloud join on, then
 * `run` Online as the instance's own i- id with its tags; forged documents and accounts not on
 * the list refused with the server's reason.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MetadataError, normalizeMetadataUrl, readInstanceIdentity, usableTags } from '@airlock/agent';
import { fleet, type OutputOf } from '@airlock/protocol';
import { IdentitySigner, MetadataService, startTestServer, type InstanceIdentityFields, type TestServer } from '@airlock/testkit';
import { runAgent, spawnAgent, temporaryDirectory, type AgentProcess } from './helpers.js';

const IDENTITY: InstanceIdentityFields = { accountId: '123456789012', instanceId: 'i-0a1b2c3d4e5f60718', region: 'eu-central-1', privateIp: '172.31.5.6' };

/** One raw request to the emulator. */
function raw(url: string, method: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the instance metadata service', () => {
  let signer: IdentitySigner;
  let imds: MetadataService;

  before(async () => {
    signer = await IdentitySigner.create();
    imds = await MetadataService.start({ signer, identity: IDENTITY, tags: { Name: 'web-1', env: 'prod', 'aws:autoscaling:groupName': 'web', note: 'a,b' } });
  });
  after(async () => {
    await imds.stop();
    await signer.remove();
  });

  test('the emulator is IMDSv2 only: a token needs a TTL header, every GET needs the token', async () => {
    const document = `${imds.url}/latest/dynamic/instance-identity/document`;
    assert.equal((await raw(document, 'GET')).status, 401);
    assert.equal((await raw(`${imds.url}/latest/api/token`, 'PUT')).status, 400);
    assert.equal((await raw(`${imds.url}/latest/api/token`, 'PUT', { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).status, 400);
    assert.equal((await raw(`${imds.url}/latest/api/token`, 'PUT', { 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' })).status, 403);
    const token = await raw(`${imds.url}/latest/api/token`, 'PUT', { 'x-aws-ec2-metadata-token-ttl-seconds': '1' });
    assert.equal(token.status, 200);
    assert.equal((await raw(document, 'GET', { 'x-aws-ec2-metadata-token': 'made-up' })).status, 401);
    const answer = await raw(document, 'GET', { 'x-aws-ec2-metadata-token': token.body });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, imds.served.document);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await raw(document, 'GET', { 'x-aws-ec2-metadata-token': token.body })).status, 401, 'an expired token is refused');
  });

  test('readInstanceIdentity: the document as served, the /rsa2048 signature without line breaks, and the tags Airlock takes', async () => {
    imds.requests.length = 0;
    const identity = await readInstanceIdentity({ metadataUrl: imds.url });
    assert.equal(identity.document, imds.served.document);
    assert.equal(identity.signature, imds.served.rsa2048.replace(/\n/g, ''));
    assert.ok(imds.served.rsa2048.includes('\n'), 'served in lines, as AWS does');
    assert.equal(identity.instanceId, IDENTITY.instanceId);
    assert.equal(identity.accountId, IDENTITY.accountId);
    assert.equal(identity.region, IDENTITY.region);
    assert.deepEqual(identity.tags, [
      { Key: 'Name', Value: 'web-1' },
      { Key: 'env', Value: 'prod' },
    ]);
    assert.deepEqual(identity.skippedTags, ['aws:autoscaling:groupName (aws: keys are reserved)', 'note (the value has characters or a length Airlock does not take)']);
    assert.equal(imds.requests[0]?.method, 'PUT');
    assert.ok(imds.requests.slice(1).every((request) => request.method === 'GET' && request.token === 'valid'));

    imds.setTags(undefined);
    try {
      assert.equal((await readInstanceIdentity({ metadataUrl: imds.url })).tags, undefined, 'tags in metadata off: no tags, not an error');
    } finally {
      imds.setTags({ Name: 'web-1' });
    }
  });

  test('no metadata service, a silent one, or a wrong URL: a MetadataError that says what to check', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(readInstanceIdentity({ metadataUrl: `http://127.0.0.1:${port}` }), (error: unknown) => error instanceof MetadataError && /No instance metadata service at http:\/\/127\.0\.0\.1:\d+ .*EC2 instance/.test(error.message));

    const silent = createServer(() => {
      // Never answers.
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      await assert.rejects(readInstanceIdentity({ metadataUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 200 }), /within 0\.2 s/);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
    assert.throws(() => normalizeMetadataUrl('https://169.254.169.254'), /must be http:\/\//);
    assert.throws(() => normalizeMetadataUrl('http://169.254.169.254/latest'), /just scheme, host and port/);
    assert.equal(normalizeMetadataUrl('http://[fd00:ec2::254]').hostname, '[fd00:ec2::254]');
    assert.equal(usableTags(Array.from({ length: 60 }, (_, index) => ({ Key: `k${index}`, Value: 'v' }))).tags.length, fleet.MAX_TAGS);
  });
});

describe('airlock-agent register --cloud, end to end', () => {
  let aws: IdentitySigner;
  let forger: IdentitySigner;
  let server: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  const running: AgentProcess[] = [];

  before(async () => {
    [aws, forger] = await Promise.all([IdentitySigner.create(), IdentitySigner.create()]);
    dir = await temporaryDirectory();
    await writeFile(join(dir.path, 'none.json'), '{}');
    const first = await startTestServer();
    server = await first.restart({ flags: { 'cloud-join-certificates': aws.certificateFile, 'cloud-join-accounts': first.server.services.accountId } });
  });
  after(async () => {
    for (const agent of running) agent.child.kill('SIGKILL');
    await server.stop();
    await dir.remove();
    await Promise.all([aws.remove(), forger.remove()]);
  });

  const register = (imds: MetadataService, name: string, ...extra: string[]) =>
    runAgent(['register', '--endpoint-url', server.url, '--cloud', '--metadata-url', imds.url, '--state-dir', join(dir.path, name), '--config', join(dir.path, 'none.json'), ...extra]);

  test('an EC2 instance registers as itself with its tags, then comes Online', async () => {
    const identity = { ...IDENTITY, accountId: server.server.services.accountId, instanceId: 'i-0fedcba9876543210', pendingTime: new Date(server.clock.now() - 120_000) };
    const imds = await MetadataService.start({ signer: aws, identity, tags: { Name: 'web-1', team: 'platform' } });
    try {
      const registered = await register(imds, 'ok');
      assert.equal(registered.code, 0, registered.stdout + registered.stderr);
      assert.match(registered.stdout, /This is i-0fedcba9876543210 \(AWS account \d{12}, eu-central-1\), with 2 tags\./);
      assert.match(registered.stdout, /Registered as i-0fedcba9876543210\./);

      const agent = spawnAgent(['run', '--state-dir', join(dir.path, 'ok'), '--config', join(dir.path, 'none.json')]);
      running.push(agent);
      const deadline = Date.now() + 10_000;
      let item: OutputOf<typeof fleet.DescribeInstanceInformation>['InstanceInformationList'][number] | undefined;
      for (;;) {
        item = (await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'tag:team', Values: ['platform'] }] })).InstanceInformationList[0];
        if (item?.PingStatus === 'Online' || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(item !== undefined);
      assert.equal(item.InstanceId, 'i-0fedcba9876543210');
      assert.equal(item.PingStatus, 'Online');
      assert.equal(item.ResourceType, 'EC2Instance');
      assert.equal(item.AgentVersion, '0.1.0');

      // The same launch, a new key (--force): refused, with the server's reason; the registration stays.
      const again = await register(imds, 'ok', '--force');
      assert.equal(again.code, 1);
      assert.match(again.stdout, /Registration refused: InstanceAlreadyRegistered: .*stop and start the instance/);
      agent.child.kill('SIGTERM');
      assert.equal(await agent.exited(), 0);
    } finally {
      await imds.stop();
    }
  });

  test('a forged document or an account not on the list is refused with the reason; a usage mistake exits 2', async () => {
    const forged = await MetadataService.start({ signer: forger, identity: { ...IDENTITY, accountId: server.server.services.accountId } });
    const stranger = await MetadataService.start({ signer: aws, identity: { ...IDENTITY, accountId: '999988887777' } });
    try {
      const refusedForged = await register(forged, 'forged');
      assert.equal(refusedForged.code, 1);
      assert.match(refusedForged.stdout, /Registration refused: InvalidIdentityDocumentSignature: The PKCS7 signature does not verify with any configured certificate/);
      const refusedStranger = await register(stranger, 'stranger');
      assert.equal(refusedStranger.code, 1);
      assert.match(refusedStranger.stdout, /Registration refused: AccessDeniedException: Instances of AWS account 999988887777 may not join/);
    } finally {
      await forged.stop();
      await stranger.stop();
    }
    const nowhere = await runAgent(['register', '--endpoint-url', server.url, '--cloud', '--metadata-url', 'http://127.0.0.1:9', '--state-dir', join(dir.path, 'nowhere'), '--config', join(dir.path, 'none.json')]);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stdout, /No instance metadata service at http:\/\/127\.0\.0\.1:9/);
    const both = await runAgent(['register', '--endpoint-url', server.url, '--cloud', '--id', 'x', '--state-dir', join(dir.path, 'both'), '--config', join(dir.path, 'none.json')]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /leave out --id and --code/);
    const stray = await runAgent(['register', '--endpoint-url', server.url, '--metadata-url', 'http://127.0.0.1:9', '--id', 'x', '--code', 'y', '--state-dir', join(dir.path, 'stray'), '--config', join(dir.path, 'none.json')]);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--metadata-url goes with --cloud/);
  });
});
