import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_VERSION, collectInventory, ControlChannel, loadPrivateKey, loadState, register, type ChannelEvent } from '@airlock/agent';
import { ensureServerCertificate } from '@airlock/server/http/tls';
import { FakeAirlock } from './fake-server.js';
import { capturedLogger, runAgent, sleep, spawnAgent, temporaryDirectory, waitFor } from './helpers.js';

/** A CA and a server certificate for 127.0.0.1, made the way the Airlock server makes its own. */
async function certificates(dir: string): Promise<{ cert: string; key: string; ca: string; caFile: string }> {
  const made = await ensureServerCertificate({ dataDir: dir, hostnames: ['127.0.0.1', 'localhost'] });
  const caFile = join(dir, 'tls', 'ca.pem');
  return { cert: made.cert, key: made.key, ca: made.ca, caFile };
}

test('https: register --ca-file pins the CA (fingerprint printed, ca.pem 0600) and run connects over wss with it', async () => {
  const dir = await temporaryDirectory();
  const tls = await certificates(join(dir.path, 'server'));
  const fake = await FakeAirlock.start({ tls, heartbeatIntervalMs: 1_000 });
  try {
    assert.match(fake.url, /^https:/);
    const stateDir = join(dir.path, 'agent');
    await writeFile(join(dir.path, 'agent.json'), '{}');
    const config = ['--config', join(dir.path, 'agent.json')];

    // NODE_TLS_REJECT_UNAUTHORIZED=0 switches nothing off: verification is explicit.
    const insecure = { NODE_TLS_REJECT_UNAUTHORIZED: '0' };
    const unpinned = await runAgent(['register', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir, ...config], insecure);
    assert.equal(unpinned.code, 1);
    assert.match(unpinned.stdout, /certificate is not trusted .*pin the server's CA with --ca-file/);
    const other = await certificates(join(dir.path, 'other'));
    const wrongPin = await runAgent(['register', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir, '--ca-file', other.caFile, ...config], insecure);
    assert.equal(wrongPin.code, 1);
    assert.match(wrongPin.stdout, /does not chain to the pinned CA/);
    assert.equal(fake.registerRequests.length, 0, 'the activation code never reached an unverified server');

    const registered = await runAgent(['register', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir, '--ca-file', tls.caFile, ...config]);
    assert.equal(registered.code, 0, registered.stdout + registered.stderr);
    const fingerprint = new X509Certificate(tls.ca).fingerprint256;
    assert.ok(registered.stdout.includes(`SHA-256 fingerprint ${fingerprint}`), registered.stdout);
    assert.equal(await readFile(join(stateDir, 'ca.pem'), 'utf8'), tls.ca);
    assert.equal((await stat(join(stateDir, 'ca.pem'))).mode & 0o777, 0o600);

    const agent = spawnAgent(['run', '--state-dir', stateDir, ...config]);
    await waitFor(() => fake.online === 1, 'the agent online over wss', 8_000);
    await waitFor(() => /Connected to https:\/\/127\.0\.0\.1:\d+ as mi-/.test(agent.stdout()), 'the connected line');
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited(), 0);
  } finally {
    await fake.stop();
    await dir.remove();
  }
});

test('a server whose certificate does not chain to the pinned CA gets no hello', async () => {
  const dir = await temporaryDirectory();
  const real = await certificates(join(dir.path, 'real'));
  const other = await certificates(join(dir.path, 'impostor'));
  const fake = await FakeAirlock.start({ tls: real });
  const impostor = await FakeAirlock.start({ tls: other });
  try {
    const stateDir = join(dir.path, 'agent');
    const { registration } = await register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir, caPem: real.ca });
    // A registration against the impostor with the real CA pinned fails before the code is sent.
    await assert.rejects(
      register({ endpointUrl: impostor.url, activationId: impostor.activationId, activationCode: impostor.activationCode, stateDir: join(dir.path, 'b'), caPem: real.ca }),
      /does not chain to the pinned CA/,
    );
    assert.equal(impostor.registerRequests.length, 0);

    const state = await loadState(stateDir);
    const events: ChannelEvent[] = [];
    const log = capturedLogger();
    const channel = new ControlChannel({
      endpointUrl: impostor.url,
      instanceId: registration.instanceId,
      privateKey: loadPrivateKey(state.privateKeyPem),
      caPem: state.caPem,
      agentVersion: AGENT_VERSION,
      inventory: () => collectInventory({ agentVersion: AGENT_VERSION }),
      log,
      random: () => 0,
      backoffBaseMs: 20,
      onEvent: (event) => events.push(event),
    });
    const run = channel.run();
    await waitFor(() => events.filter((event) => event.type === 'retry').length >= 2, 'two failed attempts');
    channel.stop();
    assert.equal(await Promise.race([run, sleep(5_000).then(() => 'timeout')]), 'stopped');
    assert.equal(impostor.hellos.length, 0, 'no hello reached a server outside the pinned CA');
    assert.equal(impostor.connectionCount, 0);
    assert.match(log.text(), /does not chain to the pinned CA/);
  } finally {
    await impostor.stop();
    await fake.stop();
    await dir.remove();
  }
});
