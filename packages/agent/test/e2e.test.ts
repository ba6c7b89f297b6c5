/**
 * The real thing: a real Airlock server (@airlock/testkit), an activation made by the root
 * client, and `airlock-agent register` / `airlock-agent run` as child processes with their own
 * state directories, seen Online through ssm:DescribeInstanceInformation.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureServerCertificate } from '@airlock/server/http/tls';
import { startTestServer, type TestServer } from '@airlock/testkit';
import { runAgent, spawnAgent, temporaryDirectory, waitFor, type AgentProcess } from './helpers.js';

interface InstanceInformation {
  readonly InstanceId: string;
  readonly PingStatus: string;
  readonly AgentVersion?: string;
  readonly PlatformName?: string;
  readonly ComputerName?: string;
  readonly ActivationId?: string;
}

type Call = (service: string, operation: string, input: unknown) => Promise<unknown>;

/** The root client's calls; over TLS, through node:https with the test CA (fetch takes no CA). */
function rootCaller(server: TestServer, ca?: string): Call {
  if (ca === undefined) return (service, operation, input) => server.root.callByName(service, operation, input);
  return (service, operation, input) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify(input);
      const request = httpsRequest(
        `${server.url}/api/${service}/${operation}`,
        { method: 'POST', ca, headers: { 'content-type': 'application/json', authorization: `Bearer ${server.rootToken}` } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            if (response.statusCode === 200) resolve(parsed);
            else reject(new Error(`${operation}: HTTP ${response.statusCode ?? 0} ${JSON.stringify(parsed)}`));
          });
        },
      );
      request.on('error', reject);
      request.end(body);
    });
}

async function describe(call: Call): Promise<InstanceInformation[]> {
  const output = (await call('ssm', 'DescribeInstanceInformation', { MaxResults: 50 })) as { InstanceInformationList: InstanceInformation[] };
  return output.InstanceInformationList;
}

/** Polls DescribeInstanceInformation (it is a network call, so not through waitFor). */
async function until(call: Call, check: (list: InstanceInformation[]) => boolean, what: string, timeoutMs = 10_000): Promise<InstanceInformation[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await describe(call);
    if (check(list)) return list;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(list)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function activation(call: Call): Promise<{ ActivationId: string; ActivationCode: string }> {
  return (await call('ssm', 'CreateActivation', { IamRole: 'SSMServiceRole', RegistrationLimit: 2 })) as { ActivationId: string; ActivationCode: string };
}

test('end to end: two agents register with a real activation, come Online, and one is deregistered', async () => {
  const server = await startTestServer();
  const call = rootCaller(server);
  const dir = await temporaryDirectory();
  const agents: AgentProcess[] = [];
  try {
    await writeFile(join(dir.path, 'agent.json'), JSON.stringify({ endpointUrl: server.url }));
    const config = ['--config', join(dir.path, 'agent.json')];
    const { ActivationId, ActivationCode } = await activation(call);
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      const registered = await runAgent(['register', '--id', ActivationId, '--state-dir', join(dir.path, name), ...config], { AIRLOCK_ACTIVATION_CODE: ActivationCode });
      assert.equal(registered.code, 0, registered.stdout + registered.stderr);
      const id = /Registered as (mi-[0-9a-f]{17})/.exec(registered.stdout)?.[1];
      assert.ok(id !== undefined, registered.stdout);
      ids.push(id);
    }
    // The activation's limit (2) is used up: a third registration is refused with the server's reason.
    const third = await runAgent(['register', '--id', ActivationId, '--state-dir', join(dir.path, 'three'), ...config], { AIRLOCK_ACTIVATION_CODE: ActivationCode });
    assert.equal(third.code, 1);
    assert.match(third.stdout, /Registration refused: RegistrationLimitExceeded/);
    assert.ok(!third.stdout.includes(ActivationCode));

    for (const name of ['one', 'two']) agents.push(spawnAgent(['run', '--state-dir', join(dir.path, name), ...config]));
    const list = await until(call, (items) => ids.every((id) => items.some((item) => item.InstanceId === id && item.PingStatus === 'Online')), 'both agents Online');
    const one = list.find((item) => item.InstanceId === ids[0]);
    assert.ok(one !== undefined);
    assert.equal(one.AgentVersion, '0.1.0');
    assert.equal(one.ActivationId, ActivationId);
    assert.ok((one.PlatformName ?? '').length > 0);

    // ssm:DeregisterManagedInstance cuts the first agent off: it exits 0 and says why.
    const [first, second] = agents;
    assert.ok(first !== undefined && second !== undefined);
    await call('ssm', 'DeregisterManagedInstance', { InstanceId: ids[0] });
    assert.equal(await first.exited(), 0);
    assert.match(first.stdout(), /Stopped for good: mi-[0-9a-f]{17} was deregistered/);
    await until(call, (items) => items.some((item) => item.InstanceId === ids[0] && item.PingStatus === 'Inactive'), 'the first instance Inactive');

    second.child.kill('SIGTERM');
    assert.equal(await second.exited(), 0);
    await waitFor(() => second.stdout().includes('Stopped.'), 'the second agent stopped');
  } finally {
    for (const agent of agents) agent.child.kill('SIGKILL');
    await server.stop();
    await dir.remove();
  }
});

test('end to end over TLS: register --ca-file pins the CA of a real server, and run connects over wss', async () => {
  const dir = await temporaryDirectory();
  const certificate = await ensureServerCertificate({ dataDir: join(dir.path, 'pki'), hostnames: ['127.0.0.1', 'localhost'] });
  await writeFile(join(dir.path, 'server.pem'), certificate.cert);
  await writeFile(join(dir.path, 'server-key.pem'), certificate.key, { mode: 0o600 });
  const server = await startTestServer({ flags: { 'tls-cert': join(dir.path, 'server.pem'), 'tls-key': join(dir.path, 'server-key.pem') } });
  const call = rootCaller(server, certificate.ca);
  const running: AgentProcess[] = [];
  try {
    assert.match(server.url, /^https:/);
    await writeFile(join(dir.path, 'agent.json'), '{}');
    const config = ['--config', join(dir.path, 'agent.json')];
    const { ActivationId, ActivationCode } = await activation(call);
    const stateDir = join(dir.path, 'agent');
    const registered = await runAgent(['register', '--endpoint-url', server.url, '--id', ActivationId, '--code', ActivationCode, '--ca-file', join(dir.path, 'pki', 'tls', 'ca.pem'), '--state-dir', stateDir, ...config]);
    assert.equal(registered.code, 0, registered.stdout + registered.stderr);
    assert.ok(registered.stdout.includes(certificate.caFingerprint));
    const id = /Registered as (mi-[0-9a-f]{17})/.exec(registered.stdout)?.[1];
    const agent = spawnAgent(['run', '--state-dir', stateDir, ...config]);
    running.push(agent);
    await until(call, (items) => items.some((item) => item.InstanceId === id && item.PingStatus === 'Online'), 'the agent Online over wss');
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited(), 0);
  } finally {
    for (const agent of running) agent.child.kill('SIGKILL');
    await server.stop();
    await dir.remove();
  }
});
