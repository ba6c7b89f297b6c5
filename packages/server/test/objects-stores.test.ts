import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { LocalDirectoryStore } from '@airlock/server/objects/local-store';
import { S3Store } from '@airlock/server/objects/s3-store';
import { ObjectKeyError, objectKey, type ObjectStore } from '@airlock/server/objects/store';
import { S3RVER_CREDENTIALS, startS3Server, temporaryDirectory, type TestS3Server } from '@airlock/testkit';

const TIMEOUT = { timeout: 30_000 };
const bucketName = (): string => `rec-${randomBytes(4).toString('hex')}`;

let s3: TestS3Server;
let dir: { path: string; remove: () => Promise<void> };

before(async () => {
  s3 = await startS3Server();
  dir = await temporaryDirectory();
});

after(async () => {
  await s3.close();
  await dir.remove();
});

const s3Store = (): S3Store =>
  new S3Store({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, encryption: undefined });

/** The same contract, for each kind of store; `bucket` makes a bucket the store can write to. */
const KINDS: { name: string; open: () => ObjectStore; bucket: () => Promise<string> }[] = [
  { name: 'local directory', open: () => new LocalDirectoryStore(join(dir.path, 'objects')), bucket: () => Promise.resolve(bucketName()) },
  {
    name: 'S3 (s3rver, path-style)',
    open: s3Store,
    bucket: async () => {
      const name = bucketName();
      await s3.createBucket(name);
      return name;
    },
  },
];

for (const kind of KINDS) {
  describe(`object store contract: ${kind.name}`, TIMEOUT, () => {
    test('puts bytes and a file, and gives them back with their content type', async () => {
      const store = kind.open();
      const bucket = await kind.bucket();
      const file = join(dir.path, `transcript-${randomBytes(3).toString('hex')}.log`);
      const text = 'line one\n'.repeat(20_000);
      await writeFile(file, text);
      await store.put({ bucket, key: 'sessions/alice-0123.log', body: { file }, contentType: 'text/plain; charset=utf-8' });
      await store.put({ bucket, key: 'sessions/alice-0123.cast', body: Buffer.from('{"version": 2}\n'), contentType: 'application/x-asciicast' });
      const log = await store.get(bucket, 'sessions/alice-0123.log');
      assert.equal(log?.body.toString('utf8'), text);
      assert.equal(log.info.contentType, 'text/plain; charset=utf-8');
      assert.equal(log.info.size, Buffer.byteLength(text));
      const head = await store.head(bucket, 'sessions/alice-0123.cast');
      assert.deepEqual(head && { size: head.size, contentType: head.contentType }, { size: 15, contentType: 'application/x-asciicast' });
      assert.equal(await readFile(file, 'utf8'), text, 'putting a file leaves it as it was');
      store.close();
    });

    test('a put replaces the object; an object that is not there is undefined', async () => {
      const store = kind.open();
      const bucket = await kind.bucket();
      await store.put({ bucket, key: 'a.log', body: Buffer.from('first'), contentType: 'text/plain' });
      await store.put({ bucket, key: 'a.log', body: Buffer.from('second'), contentType: 'text/plain' });
      assert.equal((await store.get(bucket, 'a.log'))?.body.toString(), 'second');
      assert.equal(await store.head(bucket, 'missing.log'), undefined);
      assert.equal(await store.get(bucket, 'missing.log'), undefined);
      store.close();
    });

    test('refuses bucket names and keys no store takes, before writing anything', () => {
      const store = kind.open();
      for (const bucket of ['ab', 'Upper-Case', '-dash-first', 'two..dots', '192.168.1.1', 'a'.repeat(64)]) {
        assert.throws(() => store.check({ bucket, key: 'k' }), ObjectKeyError, bucket);
      }
      assert.throws(() => store.check({ bucket: 'fine-bucket', key: '' }), ObjectKeyError);
      assert.throws(() => store.check({ bucket: 'fine-bucket', key: 'x'.repeat(1025) }), ObjectKeyError);
      assert.throws(() => store.check({ bucket: 'fine-bucket', key: 'tab\there' }), ObjectKeyError);
      store.close();
    });
  });
}

describe('local directory store', TIMEOUT, () => {
  test('keeps objects at DATA/objects/{bucket}/{key}, and refuses keys that would leave the bucket', async () => {
    const root = join(dir.path, 'local-keys');
    const store = new LocalDirectoryStore(root);
    await store.put({ bucket: 'records', key: 'prefix/deep/s-1.log', body: Buffer.from('x'), contentType: 'text/plain' });
    assert.equal(await readFile(join(root, 'records', 'prefix', 'deep', 's-1.log'), 'utf8'), 'x');
    for (const key of ['../escape.log', 'a/../../escape.log', 'a/../b.log', './a.log', '/absolute.log', 'a//b.log', 'trailing/', '..']) {
      await assert.rejects(store.put({ bucket: 'records', key, body: Buffer.from('x'), contentType: 'text/plain' }), ObjectKeyError, key);
      assert.throws(() => store.check({ bucket: 'records', key }), ObjectKeyError, key);
    }
    assert.deepEqual(await readdir(root), ['.meta', 'records'], 'nothing was written outside the buckets');
    assert.deepEqual(await readdir(join(root, 'records')), ['prefix']);
  });

  test('writes atomically: a failed write leaves the old object whole and no temporary file', async () => {
    const root = join(dir.path, 'local-atomic');
    const store = new LocalDirectoryStore(root);
    await store.put({ bucket: 'records', key: 's.log', body: Buffer.from('the old transcript'), contentType: 'text/plain' });
    await assert.rejects(store.put({ bucket: 'records', key: 's.log', body: { file: join(dir.path, 'no-such-file') }, contentType: 'text/plain' }), /ENOENT/);
    assert.equal((await store.get('records', 's.log'))?.body.toString(), 'the old transcript');
    assert.deepEqual(await readdir(join(root, 'records')), ['s.log']);
  });

  test('a reader sees the old object or the new one, never a part', async () => {
    const store = new LocalDirectoryStore(join(dir.path, 'local-readers'));
    const old = Buffer.alloc(4 << 20, 'a');
    const next = Buffer.alloc(6 << 20, 'b');
    await store.put({ bucket: 'records', key: 'big.cast', body: old, contentType: 'application/x-asciicast' });
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const body = (await store.get('records', 'big.cast'))?.body;
        assert.ok(body !== undefined && (body.equals(old) || body.equals(next)), `a read gave ${body?.length ?? 0} bytes that are neither object`);
        seen.add(body[0] === 0x61 ? 'old' : 'new');
      }
    })();
    for (let i = 0; i < 4; i++) await store.put({ bucket: 'records', key: 'big.cast', body: i % 2 === 0 ? next : old, contentType: 'application/x-asciicast' });
    writing = false;
    await reader;
    assert.ok(seen.size >= 1);
  });

  test('encrypts nothing: no bucket is encrypted, and an upload asking for encryption is refused', async () => {
    const store = new LocalDirectoryStore(join(dir.path, 'local-sse'));
    assert.equal(await store.bucketEncrypted('records'), false);
    assert.throws(() => store.check({ bucket: 'records', key: 'k.log', encryption: { algorithm: 'AES256' } }), /does not encrypt/);
  });
});

describe('S3 store against a real S3-protocol server', TIMEOUT, () => {
  test('puts path-style with Content-MD5, and the object reads back through @aws-sdk/client-s3', async () => {
    const store = s3Store();
    const bucket = bucketName();
    await s3.createBucket(bucket);
    const body = randomBytes(300_000);
    await store.put({ bucket, key: 'logs/s-1.cast', body, contentType: 'application/x-asciicast' });
    const client = s3.client();
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'logs/s-1.cast' }));
    assert.ok(Buffer.from((await got.Body?.transformToByteArray()) ?? []).equals(body));
    assert.equal(got.ContentType, 'application/x-asciicast');
    client.destroy();
    const [upload, ...others] = s3.uploadsOf(bucket, 'logs/s-1.cast');
    assert.equal(others.length, 0);
    assert.equal(upload?.headers['content-md5'], createHash('md5').update(body).digest('base64'));
    assert.equal(upload.headers['x-amz-server-side-encryption'], undefined, 'no encryption asked: the bucket default applies');
    store.close();
  });

  test('asks for server-side encryption: per upload, or the configured default, with the KMS key id', async () => {
    const bucket = bucketName();
    await s3.createBucket(bucket);
    const kms = new S3Store({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, encryption: { algorithm: 'aws:kms', kmsKeyId: 'alias/recordings' } });
    await kms.put({ bucket, key: 'default.log', body: Buffer.from('x'), contentType: 'text/plain' });
    await kms.put({ bucket, key: 'aes.log', body: Buffer.from('x'), contentType: 'text/plain', encryption: { algorithm: 'AES256' } });
    assert.deepEqual(s3.uploadsOf(bucket, 'default.log')[0]?.headers['x-amz-server-side-encryption'], 'aws:kms');
    assert.equal(s3.uploadsOf(bucket, 'default.log')[0]?.headers['x-amz-server-side-encryption-aws-kms-key-id'], 'alias/recordings');
    assert.equal(s3.uploadsOf(bucket, 'aes.log')[0]?.headers['x-amz-server-side-encryption'], 'AES256');
    assert.equal(s3.uploadsOf(bucket, 'aes.log')[0]?.headers['x-amz-server-side-encryption-aws-kms-key-id'], undefined);
    kms.close();
  });

  test('bucketEncrypted: GetBucketEncryption, ServerSideEncryptionConfigurationNotFoundError meaning no', async () => {
    const store = s3Store();
    const plain = bucketName();
    const encrypted = bucketName();
    const kms = bucketName();
    await s3.createBucket(plain);
    await s3.createBucket(encrypted, { encryption: 'AES256' });
    await s3.createBucket(kms, { encryption: 'aws:kms' });
    assert.equal(await store.bucketEncrypted(plain), false);
    assert.equal(await store.bucketEncrypted(encrypted), true);
    assert.equal(await store.bucketEncrypted(kms), true);
    await assert.rejects(store.bucketEncrypted(bucketName()), { name: 'NoSuchBucket' });
    store.close();
  });

  test('an access key the server does not know is refused', async () => {
    const bucket = bucketName();
    await s3.createBucket(bucket);
    const store = new S3Store({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'wrong' }, encryption: undefined });
    await assert.rejects(store.put({ bucket, key: 'k.log', body: Buffer.from('x'), contentType: 'text/plain' }), { name: 'InvalidAccessKeyId' });
    await assert.rejects(store.bucketEncrypted(bucket), { name: 'AccessDenied' });
    const client = s3.client();
    await assert.rejects(client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k.log' })), { name: 'NotFound' });
    client.destroy();
    store.close();
  });
});

test('objectKey joins the preferences prefix and a name without doubling or adding slashes', () => {
  assert.equal(objectKey('', 's-1.log'), 's-1.log');
  assert.equal(objectKey('sessions', 's-1.log'), 'sessions/s-1.log');
  assert.equal(objectKey('sessions/', 's-1.log'), 'sessions/s-1.log');
  assert.equal(objectKey('a/b//', 's-1.cast'), 'a/b/s-1.cast');
});
