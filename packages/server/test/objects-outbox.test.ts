import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { LocalDirectoryStore } from '@airlock/server/objects/local-store';
import { backoffMs, ObjectOutbox, type OutboxOptions } from '@airlock/server/objects/outbox';
import { S3Store } from '@airlock/server/objects/s3-store';
import { Spool } from '@airlock/server/objects/spool';
import { ObjectKeyError, type ObjectStore } from '@airlock/server/objects/store';
import { openDatabase, type Db } from '@airlock/server/storage/db';
import {
  BACKENDS,
  MovableClock,
  quietLogger,
  S3RVER_CREDENTIALS,
  startS3Server,
  startTestServer,
  temporaryDirectory,
  withSchema,
  type Backend,
  type TestS3Server,
} from '@airlock/testkit';

const TIMEOUT = { timeout: 60_000 };
// The jitter's source answers 0.5: each delay is three quarters of its ceiling.
const OPTIONS: Partial<OutboxOptions> = { random: () => 0.5 };

let s3: TestS3Server;
before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  await s3.close();
});

const bucketName = (): string => `rec-${randomBytes(4).toString('hex')}`;
const s3Store = (): S3Store => new S3Store({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS, encryption: undefined });

interface Worker {
  readonly outbox: ObjectOutbox;
  readonly db: Db;
}

/** A data directory and a database (SQLite in it, or a fresh PostgreSQL schema), and outbox workers over them, each on its own connection. */
async function fixture(backend: Backend): Promise<{ dataDir: string; clock: MovableClock; worker(store: ObjectStore, options?: Partial<OutboxOptions>): Promise<Worker>; close(): Promise<void> }> {
  const dir = await temporaryDirectory();
  const schema = backend === 'postgres' ? await withSchema() : undefined;
  const clock = new MovableClock();
  const opened: { close(): Promise<void> }[] = [];
  const stores: ObjectStore[] = [];
  return {
    dataDir: dir.path,
    clock,
    worker: async (store, options = {}) => {
      const database = await openDatabase({ databaseUrl: schema?.url, dataDir: dir.path });
      opened.push(database);
      stores.push(store);
      const spool = await Spool.open(dir.path);
      return { db: database.db, outbox: new ObjectOutbox({ db: database.db, store, spool, clock, log: quietLogger() }, { ...OPTIONS, ...options }) };
    },
    close: async () => {
      for (const store of stores) store.close();
      for (const database of opened) await database.close();
      await schema?.drop();
      await dir.remove();
    },
  };
}

async function objectText(bucket: string, key: string): Promise<string | undefined> {
  const store = s3Store();
  try {
    return (await store.get(bucket, key))?.body.toString('utf8');
  } finally {
    store.close();
  }
}

test('backoff: 1 s doubling to 5 min, jittered over the later half', () => {
  const at = (failures: number, random: number): number => backoffMs(failures, { minBackoffMs: 1_000, maxBackoffMs: 300_000, random: () => random });
  assert.deepEqual([1, 2, 3, 4].map((n) => at(n, 0)), [500, 1_000, 2_000, 4_000]);
  assert.deepEqual([1, 2, 3, 4].map((n) => at(n, 0.999_999)), [1_000, 2_000, 4_000, 8_000]);
  assert.equal(at(9, 0.999_999), 256_000);
  assert.equal(at(10, 0.999_999), 300_000);
  assert.equal(at(10_000, 0), 150_000, 'bounded however many failures');
});

for (const backend of BACKENDS) {
  describe(`object outbox on ${backend}`, TIMEOUT, () => {
    test('retries with backoff while the S3 server is down, and uploads once it is back on the same port', async () => {
      const f = await fixture(backend);
      try {
        const { outbox } = await f.worker(s3Store());
        const bucket = bucketName();
        await s3.createBucket(bucket);
        await s3.stop();
        const transcript = join(f.dataDir, 'transcript.log');
        const text = 'ls -la\r\ntotal 0\r\n'.repeat(10_000);
        await writeFile(transcript, text);
        const log = await outbox.enqueue({ bucket, key: 'sessions/s-1.log', body: { file: transcript }, contentType: 'text/plain' });
        const cast = await outbox.enqueue({ bucket, key: 'sessions/s-1.cast', body: Buffer.from('{"version": 2, "width": 80, "height": 24}\n'), contentType: 'application/x-asciicast' });
        await assert.rejects(access(transcript), 'the outbox took the file over');

        assert.deepEqual(await outbox.drain(), { uploaded: 0, failed: 2 });
        const first = await outbox.entry(log);
        assert.equal(first?.attempts, 1);
        assert.match(first.lastError ?? '', /ECONNREFUSED/);
        assert.equal(first.doneAt, null);
        assert.equal(first.nextAttemptAt, f.clock.now() + 750);
        assert.deepEqual(await outbox.drain(), { uploaded: 0, failed: 0 }, 'nothing is due before its backoff');

        f.clock.advance(750);
        assert.deepEqual(await outbox.drain(), { uploaded: 0, failed: 2 });
        assert.equal((await outbox.entry(cast))?.nextAttemptAt, f.clock.now() + 1_500, 'the second delay is twice the first');
        assert.equal((await outbox.pending()).length, 2);

        await s3.start();
        f.clock.advance(1_500);
        assert.deepEqual(await outbox.drain(), { uploaded: 2, failed: 0 });
        assert.equal(await objectText(bucket, 'sessions/s-1.log'), text);
        assert.equal(await objectText(bucket, 'sessions/s-1.cast'), '{"version": 2, "width": 80, "height": 24}\n');
        const done = await outbox.entry(log);
        assert.equal(done?.attempts, 3);
        assert.equal(done.doneAt, f.clock.now());
        assert.match(done.lastError ?? '', /ECONNREFUSED/, 'the last error stays for operators');
        assert.deepEqual(await outbox.pending(), []);
        assert.deepEqual(await readdir(join(f.dataDir, 'spool')), ['.spool-id'], 'the spooled file is gone once uploaded');
        assert.equal(s3.uploadsOf(bucket, 'sessions/s-1.log').length, 1);
      } finally {
        await s3.start();
        await f.close();
      }
    });

    test('two workers on their own connections never upload the same row', async () => {
      const f = await fixture(backend);
      try {
        const a = await f.worker(s3Store(), { concurrency: 1 });
        const b = await f.worker(s3Store(), { concurrency: 2 });
        const bucket = bucketName();
        await s3.createBucket(bucket);
        const keys = Array.from({ length: 12 }, (_, i) => `sessions/s-${i}.${i % 2 === 0 ? 'log' : 'cast'}`);
        for (const [i, key] of keys.entries()) {
          await (i % 2 === 0 ? a : b).outbox.enqueue({ bucket, key, body: Buffer.alloc(i % 3 === 0 ? 100_000 : 10, i), contentType: 'text/plain' });
        }
        const [passA, passB] = await Promise.all([a.outbox.drain(), b.outbox.drain()]);
        assert.equal(passA.uploaded + passB.uploaded, keys.length);
        assert.equal(passA.failed + passB.failed, 0);
        for (const key of keys) assert.equal(s3.uploadsOf(bucket, key).length, 1, key);
        assert.deepEqual(await a.outbox.pending(), []);
      } finally {
        await f.close();
      }
    });

    test('a claim left by a worker that died lapses after the lease, and another worker takes the row over', async () => {
      const f = await fixture(backend);
      try {
        const root = join(f.dataDir, 'objects');
        const { outbox, db } = await f.worker(new LocalDirectoryStore(root), { leaseMs: 60_000 });
        const id = await outbox.enqueue({ bucket: 'records', key: 'a.log', body: Buffer.from('abc'), contentType: 'text/plain' });
        await db.updateTable('object_outbox').set({ lease_owner: 'a-worker-that-died', lease_until: f.clock.now() + 60_000 }).where('id', '=', id).execute();
        assert.deepEqual(await outbox.drain(), { uploaded: 0, failed: 0 });
        f.clock.advance(60_000);
        assert.deepEqual(await outbox.drain(), { uploaded: 1, failed: 0 });
        assert.equal(await readFile(join(root, 'records', 'a.log'), 'utf8'), 'abc');
      } finally {
        await f.close();
      }
    });

    test('keeps small bodies inline and spools larger ones; refuses what the store cannot take, leaving the caller its file', async () => {
      const f = await fixture(backend);
      try {
        const { outbox, db } = await f.worker(new LocalDirectoryStore(join(f.dataDir, 'objects')), { inlineMaxBytes: 1_000 });
        const small = await outbox.enqueue({ bucket: 'records', key: 'small.log', body: Buffer.alloc(1_000, 1), contentType: 'text/plain' });
        const large = await outbox.enqueue({ bucket: 'records', key: 'large.log', body: Buffer.alloc(1_001, 2), contentType: 'text/plain' });
        const rows = await db.selectFrom('object_outbox').select(['id', 'body', 'spool_file', 'size']).execute();
        const row = (id: string): (typeof rows)[number] | undefined => rows.find((candidate) => candidate.id === id);
        assert.equal(row(small)?.spool_file, null);
        assert.equal(Buffer.from(row(small)?.body ?? '', 'base64').length, 1_000);
        assert.deepEqual([row(large)?.body, row(large)?.spool_file, row(large)?.size], [null, large, 1_001]);
        assert.equal((await readFile(join(f.dataDir, 'spool', large))).length, 1_001);

        const file = join(f.dataDir, 'keep-me.log');
        await writeFile(file, 'mine');
        await assert.rejects(outbox.enqueue({ bucket: 'records', key: '../escape.log', body: { file }, contentType: 'text/plain' }), ObjectKeyError);
        await assert.rejects(outbox.enqueue({ bucket: 'records', key: 'k.log', body: { file }, contentType: 'text/plain', encryption: { algorithm: 'AES256' } }), /does not encrypt/);
        await assert.rejects(outbox.enqueue({ bucket: 'No_Such', key: 'k.log', body: { file }, contentType: 'text/plain' }), /not a valid bucket name/);
        assert.equal(await readFile(file, 'utf8'), 'mine');
        assert.equal((await outbox.pending()).length, 2);
      } finally {
        await f.close();
      }
    });

    test('the server keeps recordings in DATA/objects by default', async () => {
      const server = await startTestServer({ backend });
      try {
        const { objects } = server.server.services;
        assert.equal(objects.store.kind, 'local');
        assert.equal(await objects.bucketEncrypted('records'), false);
        await objects.enqueue({ bucket: 'records', key: 'sessions/s-9.log', body: Buffer.from('whoami\r\nroot\r\n'), contentType: 'text/plain' });
        await objects.outbox.drain();
        assert.equal(await readFile(join(server.dataDir, 'objects', 'records', 'sessions', 's-9.log'), 'utf8'), 'whoami\r\nroot\r\n');
      } finally {
        await server.stop();
      }
    });

    test('uploads pending when the Airlock server stops are made after it starts again', async () => {
      const bucket = bucketName();
      await s3.createBucket(bucket);
      await s3.stop();
      let server = await startTestServer({ backend, flags: s3.flags });
      try {
        assert.equal(server.server.services.objects.store.kind, 's3');
        const spooled = join(server.dataDir, 'cast.tmp');
        await writeFile(spooled, '[0.5, "o", "$ "]\n'.repeat(10_000));
        await server.server.services.objects.enqueue({ bucket, key: 'p/s-2.cast', body: { file: spooled }, contentType: 'application/x-asciicast' });
        await server.server.services.objects.enqueue({ bucket, key: 'p/s-2.log', body: Buffer.from('$ \r\n'), contentType: 'text/plain' });
        await server.server.services.objects.outbox.drain();
        assert.deepEqual(
          (await server.server.services.objects.outbox.pending()).map((entry) => [entry.key, entry.attempts > 0, /ECONNREFUSED/.test(entry.lastError ?? '')]).sort(),
          [
            ['p/s-2.cast', true, true],
            ['p/s-2.log', true, true],
          ],
        );

        server = await server.restart({ flags: s3.flags });
        await s3.start();
        server.clock.advance(10 * 60_000);
        const { outbox } = server.server.services.objects;
        for (let waited = 0; (await outbox.pending()).length > 0; waited += 50) {
          assert.ok(waited < 15_000, 'the restarted server uploads what was pending, by itself');
          await sleep(50);
        }
        assert.equal(await objectText(bucket, 'p/s-2.cast'), '[0.5, "o", "$ "]\n'.repeat(10_000));
        assert.equal(await objectText(bucket, 'p/s-2.log'), '$ \r\n');
        assert.deepEqual(await readdir(join(server.dataDir, 'spool')), ['.spool-id']);
      } finally {
        await s3.start();
        await server.stop();
      }
    });
  });
}
