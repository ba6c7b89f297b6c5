import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FakeAirlock } from './fake-server.js';
import { runAgent, spawnAgent, temporaryDirectory, waitFor } from './helpers.js';

const ISO_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO|WARN|ERROR) /;

test('--version and --help; usage mistakes exit 2', async () => {
  const version = await runAgent(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^airlock-agent \d+\.\d+\.\d+\n$/);
  const help = await runAgent(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /airlock-agent register --endpoint-url URL --id ACTIVATION_ID --code ACTIVATION_CODE/);
  assert.match(help.stdout, /--state-dir DIR +default \/var\/lib\/airlock-agent/);
  const wrong = await runAgent(['register', '--id', 'x']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /register needs --endpoint-url/);
});

test('register and run as programs: files, a signed hello, SIGTERM closes cleanly, no secret in the output', async () => {
  const fake = await FakeAirlock.start({ heartbeatIntervalMs: 1_000 });
  const dir = await temporaryDirectory();
  try {
    const stateDir = join(dir.path, 'agent-a');
    const config = join(dir.path, 'agent.json');
    await writeFile(config, JSON.stringify({ endpointUrl: fake.url }));
    // The code from the environment keeps it out of the process list.
    const registered = await runAgent(['register', '--config', config, '--id', fake.activationId, '--state-dir', stateDir], { AIRLOCK_ACTIVATION_CODE: fake.activationCode });
    assert.equal(registered.code, 0, registered.stdout + registered.stderr);
    const registration = JSON.parse(await readFile(join(stateDir, 'registration.json'), 'utf8')) as { instanceId: string; endpointUrl: string };
    assert.match(registered.stdout, new RegExp(`Registered as ${registration.instanceId}`));
    assert.equal(registration.endpointUrl, fake.url);
    assert.equal((await stat(join(stateDir, 'private-key.pem'))).mode & 0o777, 0o600);

    const twice = await runAgent(['register', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir]);
    assert.equal(twice.code, 1);
    assert.match(twice.stdout, /already holds the registration of mi-.* Give --force/);
    assert.equal(fake.registerRequests.length, 1);

    const agent = spawnAgent(['run', '--state-dir', stateDir, '--config', config]);
    await waitFor(() => fake.online === 1, 'the agent online at the fake server', 8_000);
    await waitFor(() => agent.stdout().includes('Connected to'), 'the connected line');
    assert.equal(fake.hellos[0]?.signatureValid, true);
    agent.child.kill('SIGTERM');
    assert.equal(await agent.exited(), 0);
    assert.match(agent.stdout(), /SIGTERM: closing the control channel/);
    assert.match(agent.stdout(), /Stopped\.\n$/);
    await waitFor(() => fake.closes.length === 1, 'the close at the server');
    assert.equal(fake.closes[0]?.code, 1000);

    const key = await readFile(join(stateDir, 'private-key.pem'), 'utf8');
    const keyBody = key.split('\n')[1] ?? 'unreachable';
    for (const output of [registered.stdout, twice.stdout, agent.stdout()]) {
      for (const line of output.trimEnd().split('\n')) assert.match(line, ISO_LINE);
      assert.ok(!output.includes(fake.activationCode), 'the activation code is never logged');
      assert.ok(!output.includes(keyBody) && !output.includes('PRIVATE KEY'), 'the private key is never logged');
    }
  } finally {
    await dir.remove();
    await fake.stop();
  }
});

test('deregistered: run exits 0 with a clear message, and a restarted agent does not dial again', async () => {
  const fake = await FakeAirlock.start({ heartbeatIntervalMs: 1_000 });
  const dir = await temporaryDirectory();
  try {
    const stateDir = join(dir.path, 'agent-b');
    const noConfig = join(dir.path, 'none.json');
    await writeFile(noConfig, '{}');
    const registered = await runAgent(['register', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir, '--config', noConfig]);
    assert.equal(registered.code, 0, registered.stdout);
    const { instanceId } = JSON.parse(await readFile(join(stateDir, 'registration.json'), 'utf8')) as { instanceId: string };

    const agent = spawnAgent(['run', '--state-dir', stateDir], { AIRLOCK_AGENT_CONFIG: noConfig });
    await waitFor(() => fake.online === 1, 'the agent online', 8_000);
    fake.deregister(instanceId);
    assert.equal(await agent.exited(), 0);
    assert.match(agent.stdout(), new RegExp(`Stopped for good: ${instanceId} was deregistered`));
    assert.ok(existsSync(join(stateDir, 'deregistered')));

    const restarted = await runAgent(['run', '--state-dir', stateDir], { AIRLOCK_AGENT_CONFIG: noConfig });
    assert.equal(restarted.code, 0);
    assert.match(restarted.stdout, /was deregistered .*not connecting/);
    assert.equal(fake.connectionCount, 1, 'the restarted agent did not connect');

    // register --force makes a new identity, and the agent runs again.
    const again = await runAgent(['register', '--force', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir], { AIRLOCK_AGENT_CONFIG: noConfig });
    assert.equal(again.code, 0, again.stdout);
    assert.ok(!existsSync(join(stateDir, 'deregistered')));
  } finally {
    await dir.remove();
    await fake.stop();
  }
});

test('run without a registration says what to do', async () => {
  const dir = await temporaryDirectory();
  try {
    const result = await runAgent(['run', '--state-dir', join(dir.path, 'empty')], { AIRLOCK_AGENT_CONFIG: '/dev/null/none' });
    assert.equal(result.code, 2, 'a named config file that cannot be read is a usage error');
    const plain = await runAgent(['run', '--state-dir', join(dir.path, 'empty'), '--config', join(dir.path, 'missing.json')]);
    assert.equal(plain.code, 2);
    await writeFile(join(dir.path, 'agent.json'), '{}');
    const unregistered = await runAgent(['run', '--state-dir', join(dir.path, 'empty'), '--config', join(dir.path, 'agent.json')]);
    assert.equal(unregistered.code, 1);
    assert.match(unregistered.stdout, /not registered: .*registration\.json does not exist\. Run airlock-agent register first/);
  } finally {
    await dir.remove();
  }
});

test('two agents on one host, each with its own --state-dir and identity', async () => {
  const fake = await FakeAirlock.start({ heartbeatIntervalMs: 1_000 });
  const dir = await temporaryDirectory();
  try {
    await writeFile(join(dir.path, 'agent.json'), '{}');
    const config = ['--config', join(dir.path, 'agent.json')];
    const dirs = [join(dir.path, 'one'), join(dir.path, 'two')];
    for (const stateDir of dirs) {
      const result = await runAgent(['register', '--endpoint-url', fake.url, '--id', fake.activationId, '--code', fake.activationCode, '--state-dir', stateDir, ...config]);
      assert.equal(result.code, 0, result.stdout);
    }
    const agents = dirs.map((stateDir) => spawnAgent(['run', '--state-dir', stateDir, ...config]));
    await waitFor(() => fake.online === 2, 'both agents online', 8_000);
    assert.equal(new Set(fake.hellos.map((hello) => hello.message.instanceId)).size, 2);
    for (const agent of agents) agent.child.kill('SIGINT');
    for (const agent of agents) assert.equal(await agent.exited(), 0);
  } finally {
    await dir.remove();
    await fake.stop();
  }
});
