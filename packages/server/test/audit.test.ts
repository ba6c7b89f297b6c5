/**
 * The audit trail's hash chain: every call leaves one chained record; an edited, deleted or
 * reordered record fails verification and is named; the export is JSON Lines that check out
 * without the database; `airlock audit verify` (the real CLI) exits 0, then 1 after tampering.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError } from '@airlock/client';
import { identitystore, logs } from '@airlock/protocol';
import { chainHash, GENESIS_HASH } from '@airlock/server/audit/chain';
import { exportTrail } from '@airlock/server/audit/export';
import { AuditTrail } from '@airlock/server/audit/trail';
import { verifyTrail, type TrailProblem } from '@airlock/server/audit/verify';
import { openDatabase, type Db } from '@airlock/server/storage/db';
import { BACKENDS, startTestServer, type TestServer } from '@airlock/testkit';
import { sql } from 'kysely';

const repoFile = (path: string): string => new URL(`../../../${path}`, import.meta.url).pathname;

/** The environment of a child program, without settings that would point it elsewhere. */
const childEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AIRLOCK_')));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(program: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [repoFile(program), ...args], { env: childEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Row {
  seq: number;
  event_id: string;
  prev_hash: string;
  hash: string;
  record: string;
  user_name: string | null;
}

async function rows(db: Db): Promise<Row[]> {
  return db.selectFrom('audit_events').select(['seq', 'event_id', 'prev_hash', 'hash', 'record', 'user_name']).orderBy('seq').execute();
}

async function rowAt(db: Db, seq: number): Promise<Row> {
  return db.selectFrom('audit_events').select(['seq', 'event_id', 'prev_hash', 'hash', 'record', 'user_name']).where('seq', '=', seq).executeTakeFirstOrThrow();
}

async function problems(db: Db): Promise<readonly TrailProblem[]> {
  const result = await verifyTrail(db);
  if (result.ok) assert.fail('verification passed a tampered trail');
  return result.problems;
}

async function assertVerified(db: Db): Promise<number> {
  const result = await verifyTrail(db);
  assert.ok(result.ok, `verification failed: ${JSON.stringify(result)}`);
  return result.records;
}

const eventIdOf = (row: Row): string => (JSON.parse(row.record) as { eventID: string }).eventID;

/** A writable that keeps what it is given. */
function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Checks JSON Lines of the export the way anyone could, without the database. */
function checkExport(text: string): { seq: number; hash: string; eventID: string; eventTime: string }[] {
  assert.ok(text.endsWith('\n'), 'the export ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  let prevHash = GENESIS_HASH;
  return lines.map((line, index) => {
    const { seq, prevHash: linkedTo, hash, ...record } = JSON.parse(line) as { seq: number; prevHash: string; hash: string; eventID: string; eventTime: string };
    assert.equal(seq, index + 1);
    assert.equal(linkedTo, prevHash, `seq ${seq} links to the record before`);
    assert.equal(hash, chainHash(seq, linkedTo, record), `seq ${seq} hashes to its hash`);
    prevHash = hash;
    return { seq, hash, eventID: record.eventID, eventTime: record.eventTime };
  });
}

for (const backend of BACKENDS) {
  describe(`audit chain on ${backend}`, () => {
    let server: TestServer;
    let db: Db;
    const databaseFlags = (): string[] => {
      const url = server.server.services.config.databaseUrl;
      return ['--data-dir', server.dataDir, ...(url === undefined ? [] : ['--database-url', url])];
    };

    before(async () => {
      server = await startTestServer({ backend });
      db = server.server.services.db;
      for (const name of ['audit-a', 'audit-b', 'audit-c', 'audit-d']) {
        await server.root.call(identitystore.CreateUser, { UserName: name });
        server.clock.advance(60_000);
      }
      await server.root.call(identitystore.ListUsers, {});
    });
    after(async () => {
      await server.stop();
    });

    test('every API call leaves one record, chained to the one before, and the chain verifies', async () => {
      const before = (await rows(db)).length;
      await server.root.call(identitystore.CreateUser, { UserName: 'audit-e' });
      await assert.rejects(server.root.call(identitystore.CreateUser, { UserName: 'audit-e' }), AirlockApiError);
      await assert.rejects(server.client().call(identitystore.ListUsers, {}), AirlockApiError);
      await server.root.call(identitystore.ListUsers, { MaxResults: 1 });
      const all = await rows(db);
      assert.equal(all.length, before + 4);
      assert.deepEqual(
        all.slice(before).map((row) => (JSON.parse(row.record) as { eventName: string; errorCode?: string }).errorCode ?? 'ok'),
        ['ok', 'ConflictException', 'UnauthorizedException', 'ok'],
      );
      all.forEach((row, index) => {
        assert.equal(row.seq, index + 1);
        assert.equal(row.prev_hash, index === 0 ? GENESIS_HASH : all[index - 1]?.hash);
        assert.match(row.hash, /^[0-9a-f]{64}$/);
        assert.equal(row.hash, chainHash(row.seq, row.prev_hash, JSON.parse(row.record)));
      });
      assert.equal(await assertVerified(db), all.length);
    });

    test('a call whose fields are named like what plain objects inherit (toString, constructor) is done and recorded', async () => {
      const before = (await rows(db)).length;
      await server.root.call(logs.CreateLogGroup, { logGroupName: 'inherited-names', tags: { toString: 'x', constructor: 'y' } });
      const all = await rows(db);
      assert.equal(all.length, before + 1);
      const record = JSON.parse(all.at(-1)?.record ?? '{}') as { eventName: string; errorCode?: string; requestParameters: { tags: Record<string, string> } };
      assert.equal(record.eventName, 'CreateLogGroup');
      assert.equal(record.errorCode, undefined);
      assert.deepEqual({ ...record.requestParameters.tags }, { toString: 'x', constructor: 'y' });
      assert.equal(await assertVerified(db), all.length);
    });

    test('calls made at once are appended one after another, and the chain still verifies', async () => {
      const before = (await rows(db)).length;
      await Promise.all(Array.from({ length: 25 }, () => server.root.call(identitystore.ListUsers, { MaxResults: 1 })));
      assert.equal((await rows(db)).length, before + 25);
      assert.equal(await assertVerified(db), before + 25);
    });

    /** A root ListUsers, as a node records it. */
    const outcome = (userAgent: string, requestId: string, requestParameters: unknown = {}) => ({
      service: 'identitystore',
      operation: 'ListUsers',
      readOnly: true,
      principal: { kind: 'root', accountId: server.server.services.accountId } as const,
      sourceIp: '127.0.0.1',
      userAgent,
      requestId,
      time: server.clock.now(),
      requestParameters,
      responseElements: { Users: [] },
    });

    test('two nodes sharing the database append at once, and the chain holds', async () => {
      const other = await openDatabase({ databaseUrl: server.server.services.config.databaseUrl, dataDir: server.dataDir });
      try {
        const before = (await rows(db)).length;
        const nodes = [new AuditTrail(db, 'local'), new AuditTrail(other.db, 'local')] as const;
        await Promise.all(Array.from({ length: 40 }, (_, index) => nodes[index % 2 === 0 ? 0 : 1].record(outcome(`node-${index % 2}`, `${index % 2}-${index}`))));
        assert.equal(await assertVerified(db), before + 40);
      } finally {
        await other.close();
      }
    });

    test('a node appends the records that come while it appends in one go, in the order they came; a record that cannot be stored fails alone', async () => {
      const other = await openDatabase({ databaseUrl: server.server.services.config.databaseUrl, dataDir: server.dataDir });
      try {
        const before = (await rows(db)).length;
        const nodes = [new AuditTrail(db, 'local'), new AuditTrail(other.db, 'local')] as const;
        const calls = Array.from({ length: 300 }, (_, index) =>
          (index % 2 === 0 ? nodes[0] : nodes[1]).record(outcome(`batch-${index % 2}`, String(index), index === 150 ? { tooBig: 1n } : {})),
        );
        const settled = await Promise.allSettled(calls);
        assert.deepEqual(
          settled.flatMap((result, index) => (result.status === 'rejected' ? [index] : [])),
          [150],
        );
        assert.equal(await assertVerified(db), before + 299);
        const appended = (await rows(db)).slice(before).map((row) => JSON.parse(row.record) as { userAgent: string; requestID: string });
        for (const node of [0, 1]) {
          const order = appended.filter((record) => record.userAgent === `batch-${node}`).map((record) => Number(record.requestID));
          assert.deepEqual(order, Array.from({ length: 150 }, (_, k) => 2 * k + node).filter((index) => index !== 150));
        }
        if (backend === 'postgres') {
          // Rows written by one transaction share its id (xmin): far fewer transactions than records.
          const { rows: counted } = await sql<{ n: number }>`select count(distinct xmin::text)::int as n from audit_events where seq > ${before}`.execute(db);
          const transactions = counted[0]?.n ?? 0;
          assert.ok(transactions >= 2 && transactions <= 100, `299 records in ${String(transactions)} transactions`);
        }
      } finally {
        await other.close();
      }
    });

    test('an edited record fails verification, naming its seq; undone, the trail verifies again', async () => {
      const original = await rowAt(db, 3);
      const edited = { ...(JSON.parse(original.record) as Record<string, unknown>), sourceIPAddress: '203.0.113.9' };
      await db.updateTable('audit_events').set({ record: JSON.stringify(edited) }).where('seq', '=', 3).execute();
      assert.deepEqual(await problems(db), [{ seq: 3, eventID: original.event_id, problem: 'edited' }]);
      await db.updateTable('audit_events').set({ record: original.record }).where('seq', '=', 3).execute();
      await assertVerified(db);
    });

    test('an edited index column (hiding a record from LookupEvents) is an edit too', async () => {
      const original = await rowAt(db, 2);
      await db.updateTable('audit_events').set({ user_name: 'someone-else' }).where('seq', '=', 2).execute();
      assert.deepEqual(await problems(db), [{ seq: 2, eventID: original.event_id, problem: 'edited' }]);
      await db.updateTable('audit_events').set({ user_name: original.user_name }).where('seq', '=', 2).execute();
      await assertVerified(db);
    });

    test('an edited record given a fresh hash breaks the link from the next one', async () => {
      const original = await rowAt(db, 4);
      const edited = { ...(JSON.parse(original.record) as Record<string, unknown>), userAgent: 'forged' };
      await db
        .updateTable('audit_events')
        .set({ record: JSON.stringify(edited), hash: chainHash(4, original.prev_hash, edited) })
        .where('seq', '=', 4)
        .execute();
      const next = await rowAt(db, 5);
      assert.deepEqual(await problems(db), [{ seq: 5, eventID: next.event_id, problem: 'broken link' }]);
      await db.updateTable('audit_events').set({ record: original.record, hash: original.hash }).where('seq', '=', 4).execute();
      await assertVerified(db);
    });

    test('a deleted record is detected and named by the gap before the next; so is a deleted first record', async () => {
      for (const seq of [4, 1]) {
        const deleted = await db.selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
        const resources = await db.selectFrom('audit_event_resources').selectAll().where('seq', '=', seq).execute();
        await db.deleteFrom('audit_events').where('seq', '=', seq).execute();
        const next = await rowAt(db, seq + 1);
        assert.deepEqual(await problems(db), [{ seq: seq + 1, eventID: next.event_id, problem: 'deleted (gap before)' }]);
        await db.insertInto('audit_events').values(deleted).execute();
        if (resources.length > 0) await db.insertInto('audit_event_resources').values(resources).execute();
        await assertVerified(db);
      }
    });

    test('swapped records are detected as reordered, both of them, near or far apart', async () => {
      for (const [a, b] of [
        [2, 6],
        [3, 4],
      ] as const) {
        const first = await rowAt(db, a);
        const second = await rowAt(db, b);
        const swap = async (x: Row, y: Row): Promise<void> => {
          await db.updateTable('audit_events').set({ record: y.record, hash: y.hash }).where('seq', '=', x.seq).execute();
          await db.updateTable('audit_events').set({ record: x.record, hash: x.hash }).where('seq', '=', y.seq).execute();
        };
        await swap(first, second);
        assert.deepEqual(await problems(db), [
          { seq: a, eventID: eventIdOf(second), problem: 'reordered' },
          { seq: b, eventID: eventIdOf(first), problem: 'reordered' },
        ]);
        await swap({ ...first, record: second.record, hash: second.hash }, { ...second, record: first.record, hash: first.hash });
        await assertVerified(db);
      }
    });

    test('whole rows swapped (their links with them) are reordered too', async () => {
      const first = await rowAt(db, 3);
      const second = await rowAt(db, 5);
      const put = (seq: number, row: Row) => db.updateTable('audit_events').set({ record: row.record, hash: row.hash, prev_hash: row.prev_hash }).where('seq', '=', seq).execute();
      await put(3, second);
      await put(5, first);
      assert.deepEqual(
        (await problems(db)).map((problem) => [problem.seq, problem.problem]),
        [
          [3, 'reordered'],
          [5, 'reordered'],
        ],
      );
      await put(3, first);
      await put(5, second);
      await assertVerified(db);
    });

    test('export writes every record as JSON Lines, in pages, that verify without the database', async () => {
      const count = (await rows(db)).length;
      const out = await run('packages/server/bin/airlock-server.js', ['audit', 'export', ...databaseFlags()]);
      assert.equal(out.code, 0, out.stderr);
      const exported = checkExport(out.stdout);
      assert.equal(exported.length, count);
      assert.deepEqual(
        exported.map((line) => line.hash),
        (await rows(db)).map((row) => row.hash),
      );
      // The same, read three records at a time.
      const paged = collector();
      assert.equal(await exportTrail(db, paged.stream, { pageSize: 3 }), count);
      assert.equal(paged.text(), out.stdout);
    });

    test('export --since and --until choose records by event time (from inclusive, to exclusive)', async () => {
      const all = checkExport((await run('packages/server/bin/airlock-server.js', ['audit', 'export', ...databaseFlags()])).stdout);
      // The four CreateUser calls were a minute apart: take the second and third.
      const since = all[1]?.eventTime ?? '';
      const until = all[3]?.eventTime ?? '';
      const out = await run('packages/server/bin/airlock-server.js', ['audit', 'export', ...databaseFlags(), '--since', since, '--until', until]);
      assert.equal(out.code, 0, out.stderr);
      const lines = out.stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number });
      assert.deepEqual(
        lines.map((line) => line.seq),
        [2, 3],
      );
      const bad = await run('packages/server/bin/airlock-server.js', ['audit', 'export', ...databaseFlags(), '--since', 'yesterday']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--since must be an ISO 8601 time/);
    });

    test('airlock-server audit verify prints the count and exits 0, or names the problem and exits 1', async () => {
      const count = (await rows(db)).length;
      const good = await run('packages/server/bin/airlock-server.js', ['audit', 'verify', ...databaseFlags()]);
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, new RegExp(`^verified ${count} records`));
      const original = await rowAt(db, 2);
      await db.updateTable('audit_events').set({ record: original.record.replace('"eventVersion"', ' "eventVersion"').replace('audit-b', 'audit-x') }).where('seq', '=', 2).execute();
      const bad = await run('packages/server/bin/airlock-server.js', ['audit', 'verify', ...databaseFlags()]);
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, new RegExp(`^seq 2 \\(eventID ${original.event_id}\\): edited`, 'm'));
      assert.match(bad.stdout, /NOT verified: 1 problem in \d+ records/);
      await db.updateTable('audit_events').set({ record: original.record }).where('seq', '=', 2).execute();
      await assertVerified(db);
    });
  });
}

describe('airlock audit verify (the CLI, on a stopped server)', () => {
  let server: TestServer;
  let dataDir: string;

  before(async () => {
    server = await startTestServer({ backend: 'sqlite' });
    dataDir = server.dataDir;
    await server.root.call(identitystore.CreateUser, { UserName: 'cli-audit' });
    await server.root.call(identitystore.ListUsers, {});
    // Stop the server but keep its data directory.
    await server.server.close();
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  test('exits 0 with "verified N records", then 1 naming the record after it is edited', async () => {
    const good = await run('packages/cli/bin/airlock.js', ['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^verified 2 records; the last is seq 2, hash [0-9a-f]{64}\n$/);

    const database = await openDatabase({ databaseUrl: undefined, dataDir });
    const first = await rowAt(database.db, 1);
    await database.db.updateTable('audit_events').set({ record: first.record.replace('cli-audit', 'cli-forged') }).where('seq', '=', 1).execute();
    await database.close();

    const bad = await run('packages/cli/bin/airlock.js', ['audit', 'verify', '--data-dir', dataDir]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, new RegExp(`^seq 1 \\(eventID ${first.event_id}\\): edited`, 'm'));

    const exported = await run('packages/cli/bin/airlock.js', ['audit', 'export', '--data-dir', dataDir]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trim().split('\n').length, 2);
  });

  test('a directory without a database is a usage error (2), not an empty trail', async () => {
    const missing = await run('packages/cli/bin/airlock.js', ['audit', 'verify', '--data-dir', `${dataDir}/nothing-here`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no Airlock database/);
  });
});
