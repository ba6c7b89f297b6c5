import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AGENT_VERSION, controlUrl, dataUrl, DEFAULT_CONFIG_FILE, DEFAULT_STATE_DIR, isLoopbackHost, loadConfigFile, normalizeEndpoint, parseCommandLine, registerSettings, runSettings, sessionEnvironment, UsageError } from '@airlock/agent';
import { repoRoot, temporaryDirectory } from './helpers.js';

test('the version is the package version', async () => {
  const pkg = JSON.parse(await readFile(`${repoRoot}packages/agent/package.json`, 'utf8')) as { version: string };
  assert.equal(AGENT_VERSION, pkg.version);
});

test('command lines: commands, --flag value, --flag=value, switches, and mistakes', () => {
  assert.equal(parseCommandLine(['--version']).command, 'version');
  assert.equal(parseCommandLine(['--help']).command, 'help');
  assert.deepEqual(parseCommandLine(['run', '--help']).helpFor, 'run');
  const line = parseCommandLine(['register', '--endpoint-url=http://127.0.0.1:4100', '--id', 'abc', '--code', 'c0de', '--force']);
  assert.equal(line.command, 'register');
  assert.equal(line.flags.get('endpoint-url'), 'http://127.0.0.1:4100');
  assert.equal(line.flags.get('id'), 'abc');
  assert.equal(line.flags.get('force'), true);
  assert.throws(() => parseCommandLine(['run', '--code', 'x']), /run has no option --code/);
  assert.throws(() => parseCommandLine(['run', '--stat-dir', 'x']), /Unknown option --stat-dir/);
  assert.throws(() => parseCommandLine(['run', '--state-dir']), /needs a value/);
  assert.throws(() => parseCommandLine(['run', '--state-dir', 'a', '--state-dir', 'b']), /given twice/);
  assert.throws(() => parseCommandLine(['start']), UsageError);
  assert.throws(() => parseCommandLine(['run', 'extra']), /Unexpected argument/);
});

test('defaults: /etc/airlock/agent.json (absent is fine) and /var/lib/airlock-agent', async (t) => {
  assert.equal(DEFAULT_CONFIG_FILE, '/etc/airlock/agent.json');
  assert.deepEqual(await loadConfigFile('/nonexistent/agent.json', false), {}, 'the default file may be absent');
  await assert.rejects(loadConfigFile('/nonexistent/agent.json', true), /Cannot read the config file/);
  await assert.rejects(runSettings(new Map([['config', '/nonexistent/agent.json']]), {}), /Cannot read the config file/, 'a named file must exist');
  await assert.rejects(runSettings(new Map(), { AIRLOCK_AGENT_CONFIG: '/nonexistent/agent.json' }), /Cannot read the config file/);
  if (existsSync(DEFAULT_CONFIG_FILE)) {
    t.diagnostic(`${DEFAULT_CONFIG_FILE} exists on this host; the built-in state directory is not checked`);
    return;
  }
  const settings = await runSettings(new Map(), {});
  assert.equal(settings.configFile, DEFAULT_CONFIG_FILE);
  assert.equal(settings.stateDir, DEFAULT_STATE_DIR);
  assert.equal(DEFAULT_STATE_DIR, '/var/lib/airlock-agent');
});

test('flags win over the environment, which wins over the config file', async () => {
  const dir = await temporaryDirectory();
  try {
    const file = join(dir.path, 'agent.json');
    await writeFile(file, JSON.stringify({ endpointUrl: 'https://airlock.example.com', stateDir: 'state-from-file', caFile: 'ca.pem' }));
    const fromFile = await registerSettings(new Map([['config', file], ['id', 'act'], ['code', 'c']]), {});
    assert.equal(fromFile.endpointUrl, 'https://airlock.example.com');
    assert.equal(fromFile.stateDir, join(dir.path, 'state-from-file'), 'relative to the config file');
    assert.equal(fromFile.caFile, join(dir.path, 'ca.pem'));
    assert.equal(fromFile.activationCode, 'c');

    const fromEnv = await registerSettings(new Map([['id', 'act']]), { AIRLOCK_AGENT_CONFIG: file, AIRLOCK_AGENT_STATE_DIR: '/srv/agent-env', AIRLOCK_ACTIVATION_CODE: 'env-code' });
    assert.equal(fromEnv.stateDir, '/srv/agent-env');
    assert.equal(fromEnv.activationCode, 'env-code');

    const fromFlags = await registerSettings(
      new Map([['config', file], ['id', 'act'], ['code', 'flag-code'], ['state-dir', '/srv/agent-flag'], ['endpoint-url', 'http://127.0.0.1:4100'], ['ca-file', '/tmp/other.pem']]),
      { AIRLOCK_AGENT_STATE_DIR: '/srv/agent-env', AIRLOCK_ACTIVATION_CODE: 'env-code' },
    );
    assert.equal(fromFlags.stateDir, '/srv/agent-flag');
    assert.equal(fromFlags.activationCode, 'flag-code');
    assert.equal(fromFlags.endpointUrl, 'http://127.0.0.1:4100');
    assert.equal(fromFlags.caFile, '/tmp/other.pem');

    await assert.rejects(registerSettings(new Map([['config', file], ['id', 'act']]), {}), /needs --code/);
    await writeFile(file, JSON.stringify({ endpoint: 'typo' }));
    await assert.rejects(runSettings(new Map([['config', file]]), {}), /unknown key "endpoint"/);
    await writeFile(file, '[1]');
    await assert.rejects(runSettings(new Map([['config', file]]), {}), /JSON object/);

    // Sessions: ssm-user's sudo right, on unless the file turns it off.
    await writeFile(file, JSON.stringify({ stateDir: '.' }));
    assert.equal((await runSettings(new Map([['config', file]]), {})).ssmUserSudo, true);
    await writeFile(file, JSON.stringify({ ssmUserSudo: false }));
    assert.equal((await runSettings(new Map([['config', file]]), {})).ssmUserSudo, false);
    await writeFile(file, JSON.stringify({ ssmUserSudo: 'no' }));
    await assert.rejects(runSettings(new Map([['config', file]]), {}), /ssmUserSudo must be true or false/);
  } finally {
    await dir.remove();
  }
});

test('endpoints: https anywhere, plain http only on loopback, normalized, control URL on ws(s)', () => {
  assert.equal(normalizeEndpoint('https://Airlock.Example.com:4100/'), 'https://airlock.example.com:4100');
  assert.equal(normalizeEndpoint('https://proxy.example.com/airlock/'), 'https://proxy.example.com/airlock');
  assert.equal(normalizeEndpoint('http://127.0.0.1:4100'), 'http://127.0.0.1:4100');
  assert.equal(normalizeEndpoint('http://localhost:4100'), 'http://localhost:4100');
  assert.equal(normalizeEndpoint('http://[::1]:4100'), 'http://[::1]:4100');
  assert.throws(() => normalizeEndpoint('http://10.0.0.5:4100'), /not loopback/);
  assert.throws(() => normalizeEndpoint('ftp://127.0.0.1'), /https/);
  assert.throws(() => normalizeEndpoint('https://user:pw@host'), /user name/);
  assert.throws(() => normalizeEndpoint('https://host/?x=1'), /query/);
  assert.throws(() => normalizeEndpoint('not a url'), /not a URL/);
  assert.ok(isLoopbackHost('127.8.9.10'));
  assert.ok(!isLoopbackHost('128.0.0.1'));
  assert.ok(!isLoopbackHost('localhost.example.com'));
  assert.equal(controlUrl('https://airlock.example.com:4100'), 'wss://airlock.example.com:4100/agent/control');
  assert.equal(controlUrl('http://127.0.0.1:4100'), 'ws://127.0.0.1:4100/agent/control');
  assert.equal(dataUrl('https://proxy.example.com/airlock'), 'wss://proxy.example.com/airlock/agent/data');
});

test('sessions inherit PATH and LANG from the agent, C.UTF-8 when LANG is unset', () => {
  assert.deepEqual(sessionEnvironment({ PATH: '/opt/bin:/usr/bin', LANG: 'de_DE.UTF-8' }), { PATH: '/opt/bin:/usr/bin', LANG: 'de_DE.UTF-8' });
  assert.deepEqual(sessionEnvironment({}), { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' });
});
