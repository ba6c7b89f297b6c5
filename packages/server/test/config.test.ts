/** Configuration is validated at start, and every error names the setting and where it came from. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '@airlock/server/config/config';
import { temporaryDirectory } from '@airlock/testkit';

const flags = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

test('defaults: loopback on 4100 over plain HTTP, SQLite, outbox mail, region local', () => {
  const config = loadConfig(flags({}), {});
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: 4100 });
  assert.equal(config.tls, false);
  assert.equal(config.publicUrl, undefined);
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.region, 'local');
});

test('flags beat the environment, which beats the config file', async () => {
  const dir = await temporaryDirectory();
  const file = `${dir.path}/airlock.json`;
  writeFileSync(file, JSON.stringify({ region: 'from-file', mailFrom: 'file@example.com', listen: '127.0.0.1:1' }));
  const config = loadConfig(flags({ config: file, region: 'from-flag' }), { AIRLOCK_MAIL_FROM: 'env@example.com', AIRLOCK_REGION: 'from-env' });
  assert.equal(config.region, 'from-flag');
  assert.equal(config.mailFrom, 'env@example.com');
  assert.deepEqual(config.listen, { host: '127.0.0.1', port: 1 });
  await dir.remove();
});

test('a listener off loopback needs TLS', () => {
  const config = loadConfig(flags({ listen: '0.0.0.0:8443' }), {});
  assert.equal(config.tls, true);
});

test('bad settings are refused with a message naming the key and its source', async () => {
  const dir = await temporaryDirectory();
  const file = `${dir.path}/bad.json`;
  writeFileSync(file, JSON.stringify({ regoin: 'x' }));
  const cases: [Map<string, string>, Record<string, string>, RegExp][] = [
    [flags({ listen: 'nowhere' }), {}, /--listen must be host:port/],
    [flags({}), { AIRLOCK_LISTEN: '127.0.0.1:99999' }, /AIRLOCK_LISTEN must be host:port/],
    [flags({ 'database-url': 'mysql://x' }), {}, /--database-url must be a postgres:\/\/ URL/],
    [flags({ 'smtp-url': 'mail.example.com' }), {}, /--smtp-url must look like smtp:\/\//],
    [flags({ region: 'US East' }), {}, /--region must be lower-case/],
    [flags({ 'tls-cert': '/x.pem' }), {}, /--tls-cert and --tls-key go together/],
    [flags({ 'public-url': 'ftp://x' }), {}, /--public-url must be an http/],
    [flags({ colour: 'red' }), {}, /--colour is not a server option/],
    [flags({ config: file }), {}, /regoin is not a server setting/],
    [flags({ config: `${dir.path}/missing.json` }), {}, /Cannot read the config file/],
  ];
  for (const [given, env, message] of cases) {
    assert.throws(() => loadConfig(given, env), (error: unknown) => error instanceof ConfigError && message.test(error.message));
  }
  await dir.remove();
});

test('several nodes: --node-name needs PostgreSQL and a plain name; --advertise-url is an origin', () => {
  const database = { 'database-url': 'postgres://airlock@db.internal:5432/airlock' };
  const config = loadConfig(flags({ ...database, 'node-name': 'node-a.1', 'advertise-url': 'https://node-a.example.com:4100/' }), {});
  assert.equal(config.nodeName, 'node-a.1');
  assert.equal(config.advertiseUrl, 'https://node-a.example.com:4100');
  assert.equal(loadConfig(flags({}), { AIRLOCK_NODE_NAME: undefined }).nodeName, undefined);
  assert.throws(() => loadConfig(flags({ 'node-name': 'a' }), {}), /--node-name needs --database-url/);
  assert.throws(() => loadConfig(flags({ ...database, 'node-name': 'a b' }), {}), /--node-name must be 1 to 63/);
  assert.throws(() => loadConfig(flags({}), { AIRLOCK_NODE_NAME: 'x'.repeat(64), AIRLOCK_DATABASE_URL: database['database-url'] }), /AIRLOCK_NODE_NAME must be 1 to 63/);
  assert.throws(() => loadConfig(flags({ 'advertise-url': 'https://node-a.example.com/airlock' }), {}), /--advertise-url must be an http/);
});
