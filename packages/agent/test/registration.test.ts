import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRegistration, register, RegistrationError, statePaths } from '@airlock/agent';
import { FakeAirlock } from './fake-server.js';
import { temporaryDirectory } from './helpers.js';

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

test('register writes registration.json and private-key.pem 0600 in a 0700 directory, then refuses a second time', async () => {
  const fake = await FakeAirlock.start();
  const dir = await temporaryDirectory();
  try {
    const stateDir = join(dir.path, 'state', 'agent-1');
    const { registration, replaced } = await register({ endpointUrl: `${fake.url}/`, activationId: fake.activationId, activationCode: fake.activationCode, stateDir, fingerprint: 'host-1' });
    assert.equal(replaced, false);
    assert.match(registration.instanceId, /^mi-[0-9a-f]{17}$/);
    assert.equal(registration.endpointUrl, fake.url, 'the endpoint is stored without the trailing slash');

    const paths = statePaths(stateDir);
    assert.equal(await modeOf(stateDir), 0o700);
    assert.equal(await modeOf(paths.privateKey), 0o600);
    assert.equal(await modeOf(paths.registration), 0o600);
    assert.deepEqual((await readdir(stateDir)).sort(), ['private-key.pem', 'registration.json'], 'no temporary files are left behind');
    const saved = JSON.parse(await readFile(paths.registration, 'utf8')) as Record<string, unknown>;
    assert.equal(saved['endpointUrl'], fake.url);
    assert.equal(saved['instanceId'], registration.instanceId);

    // The key on disk is PKCS#8 Ed25519, and its public half is what the server registered.
    const pem = await readFile(paths.privateKey, 'utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
    const key = createPrivateKey(pem);
    assert.equal(key.asymmetricKeyType, 'ed25519');
    const request = fake.registerRequests[0];
    assert.ok(request !== undefined);
    assert.equal(request.body['PublicKeyType'], 'Ed25519');
    assert.equal(request.body['Fingerprint'], 'host-1');
    assert.equal(request.body['PublicKey'], createPublicKey(key).export({ format: 'der', type: 'spki' }).toString('base64'));
    assert.ok(fake.registrations.has(registration.instanceId));

    // Once per state directory: refused before anything reaches the server.
    await assert.rejects(
      register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir }),
      (error: unknown) => error instanceof RegistrationError && error.code === 'AlreadyRegistered' && error.message.includes(registration.instanceId) && error.message.includes('--force'),
    );
    assert.equal(fake.registerRequests.length, 1);
    assert.deepEqual(await readRegistration(stateDir), registration);

    // --force replaces it with a new identity.
    const again = await register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir, force: true });
    assert.equal(again.replaced, true);
    assert.notEqual(again.registration.instanceId, registration.instanceId);
    assert.notEqual(await readFile(paths.privateKey, 'utf8'), pem);
    assert.equal(await modeOf(paths.privateKey), 0o600);
  } finally {
    await dir.remove();
    await fake.stop();
  }
});

test('an existing, too open state directory is made 0700', async () => {
  const fake = await FakeAirlock.start();
  const dir = await temporaryDirectory();
  try {
    const stateDir = join(dir.path, 'open');
    await mkdir(stateDir);
    await chmod(stateDir, 0o755);
    await register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir });
    assert.equal(await modeOf(stateDir), 0o700);
  } finally {
    await dir.remove();
    await fake.stop();
  }
});

test("the server's refusal comes through with its __type, and nothing is saved", async () => {
  const fake = await FakeAirlock.start({ registrationLimit: 1 });
  const dir = await temporaryDirectory();
  try {
    const stateDir = join(dir.path, 'a');
    await assert.rejects(
      register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: 'wrong-code', stateDir }),
      (error: unknown) => error instanceof RegistrationError && error.code === 'InvalidActivation' && /InvalidActivation: The activation is not valid/.test(error.message),
    );
    assert.equal(await readRegistration(stateDir), undefined);
    await register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir });
    await assert.rejects(
      register({ endpointUrl: fake.url, activationId: fake.activationId, activationCode: fake.activationCode, stateDir: join(dir.path, 'b') }),
      (error: unknown) => error instanceof RegistrationError && error.code === 'RegistrationLimitExceeded',
    );
    assert.equal(await readRegistration(join(dir.path, 'b')), undefined);
  } finally {
    await dir.remove();
    await fake.stop();
  }
});

test('a server that is not there, or answers nonsense, is a clear error', async () => {
  const dir = await temporaryDirectory();
  try {
    await assert.rejects(
      register({ endpointUrl: 'http://127.0.0.1:1', activationId: 'x', activationCode: 'y', stateDir: dir.path }),
      (error: unknown) => error instanceof RegistrationError && error.code === 'NetworkError' && error.message.includes('ECONNREFUSED'),
    );
    await assert.rejects(
      register({ endpointUrl: 'http://127.0.0.1:9', activationId: 'x', activationCode: 'y', stateDir: dir.path, post: () => Promise.resolve({ status: 200, body: { InstanceId: '../../etc' } }) }),
      (error: unknown) => error instanceof RegistrationError && error.code === 'BadResponse',
    );
    await assert.rejects(
      register({ endpointUrl: 'http://127.0.0.1:9', activationId: 'x', activationCode: 'the-code', stateDir: dir.path, post: () => Promise.resolve({ status: 400, body: { __type: 'InvalidActivation', message: 'bad code the-code' } }) }),
      (error: unknown) => error instanceof Error && !error.message.includes('the-code') && error.message.includes('***'),
      'the activation code never reaches a message',
    );
    await assert.rejects(register({ endpointUrl: 'http://192.0.2.1', activationId: 'x', activationCode: 'y', stateDir: dir.path }), /not loopback/);
    assert.equal(await readRegistration(dir.path), undefined);
  } finally {
    await dir.remove();
  }
});
