/** The object store's settings: validated at start, each error naming the setting and where it came from, never a secret. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '@airlock/server/config/config';
import { ObjectService } from '@airlock/server/objects/service';
import { openDatabase } from '@airlock/server/storage/db';
import { MovableClock, quietLogger, temporaryDirectory } from '@airlock/testkit';

const flags = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

test('the object store is the local directory unless --object-store s3', () => {
  assert.deepEqual(loadConfig(flags({}), {}).objectStore, { kind: 'local' });
  assert.deepEqual(loadConfig(flags({ 'object-store': 'local' }), {}).objectStore, { kind: 'local' });
});

test('S3 settings from flags, the environment and the config file', async () => {
  const dir = await temporaryDirectory();
  const file = `${dir.path}/airlock.json`;
  writeFileSync(file, JSON.stringify({ objectStore: 's3', s3SecretAccessKey: SECRET, s3ServerSideEncryption: 'aws:kms' }));
  const config = loadConfig(flags({ config: file, 's3-endpoint': 'http://127.0.0.1:9000/', 's3-force-path-style': 'true' }), {
    AIRLOCK_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    AIRLOCK_S3_REGION: 'eu-west-1',
    AIRLOCK_S3_KMS_KEY_ID: 'alias/recordings',
  });
  assert.deepEqual(config.objectStore, {
    kind: 's3',
    endpoint: 'http://127.0.0.1:9000',
    region: 'eu-west-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET },
    encryption: { algorithm: 'aws:kms', kmsKeyId: 'alias/recordings' },
  });
  const defaults = loadConfig(flags({ 'object-store': 's3' }), {}).objectStore;
  assert.deepEqual(defaults, { kind: 's3', endpoint: undefined, region: undefined, forcePathStyle: false, credentials: undefined, encryption: undefined });
  await dir.remove();
});

test('wrong object store settings stop the start, naming the setting and never the secret', () => {
  const s3 = { 'object-store': 's3' };
  const cases: [Map<string, string>, Record<string, string>, RegExp][] = [
    [flags({ 'object-store': 'gcs' }), {}, /--object-store must be local or s3; it is "gcs"/],
    [flags({ 's3-endpoint': 'http://minio:9000' }), {}, /--s3-endpoint is an S3 setting, and the object store is local/],
    [flags({}), { AIRLOCK_S3_SECRET_ACCESS_KEY: SECRET }, /AIRLOCK_S3_SECRET_ACCESS_KEY is an S3 setting/],
    [flags({ ...s3, 's3-endpoint': 'minio:9000' }), {}, /--s3-endpoint must be an http:\/\/ or https:\/\/ URL/],
    [flags({ ...s3, 's3-endpoint': 'https://minio:9000/bucket' }), {}, /--s3-endpoint must be .* with no path/],
    [flags({ ...s3, 's3-region': 'EU West' }), {}, /--s3-region must be lower-case/],
    [flags({ ...s3, 's3-force-path-style': 'yes' }), {}, /--s3-force-path-style must be true or false/],
    [flags({ ...s3, 's3-access-key-id': 'AKIAEXAMPLE' }), {}, /go together; --s3-access-key-id is given alone/],
    [flags(s3), { AIRLOCK_S3_SECRET_ACCESS_KEY: SECRET }, /go together; AIRLOCK_S3_SECRET_ACCESS_KEY is given alone/],
    [flags({ ...s3, 's3-server-side-encryption': 'aws:kms:dsse' }), {}, /--s3-server-side-encryption must be AES256 or aws:kms/],
    [flags({ ...s3, 's3-kms-key-id': 'k' }), {}, /--s3-kms-key-id needs --s3-server-side-encryption aws:kms/],
    [flags({ ...s3, 's3-server-side-encryption': 'AES256', 's3-kms-key-id': 'k' }), {}, /--s3-kms-key-id goes with aws:kms/],
  ];
  for (const [given, env, message] of cases) {
    assert.throws(
      () => loadConfig(given, env),
      (error: unknown) => error instanceof ConfigError && message.test(error.message) && !error.message.includes(SECRET),
      message.source,
    );
  }
});

test('an S3 store with no region anywhere does not start, naming --s3-region', async () => {
  const dir = await temporaryDirectory();
  const database = await openDatabase({ databaseUrl: undefined, dataDir: dir.path });
  // The SDK's chain reads AWS_REGION and the profile: point both at nothing for this check.
  const saved = { region: process.env['AWS_REGION'], defaultRegion: process.env['AWS_DEFAULT_REGION'], config: process.env['AWS_CONFIG_FILE'] };
  delete process.env['AWS_REGION'];
  delete process.env['AWS_DEFAULT_REGION'];
  process.env['AWS_CONFIG_FILE'] = `${dir.path}/no-aws-config`;
  try {
    const config = { ...loadConfig(flags({ 'object-store': 's3' }), {}), dataDir: dir.path };
    await assert.rejects(ObjectService.open(config, { db: database.db, clock: new MovableClock(), log: quietLogger() }), (error: unknown) => error instanceof ConfigError && /--s3-region/.test(error.message));
  } finally {
    for (const [name, value] of [['AWS_REGION', saved.region], ['AWS_DEFAULT_REGION', saved.defaultRegion], ['AWS_CONFIG_FILE', saved.config]] as const) {
      if (value === undefined) Reflect.deleteProperty(process.env, name);
      else process.env[name] = value;
    }
    await database.close();
    await dir.remove();
  }
});
