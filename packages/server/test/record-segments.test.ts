/**
 * A moved session's record in segments (record-segments.ts), on both backends, with real record
 * files (RecordWriter) and a real audit trail: each carrier's segment is sealed naming its node,
 * stored in the database and its file removed; merged, every frame is there once, in order;
 * delivery waits for the end and every segment, and happens once; a segment handed over twice
 * (a stop before its file was removed) is stored once; a node at its start hands over only what
 * moved off it; verify checks each segment against its node's seal.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { access, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { data } from '@airlock/protocol';
import { AuditTrail } from '@airlock/server/audit/trail';
import { ObjectService } from '@airlock/server/objects/service';
import { GENESIS, parseRecord, recordPath, RecordWriter, type Direction, type RecordEntry } from '@airlock/server/sessions/record';
import { HASH } from '@airlock/server/sessions/record-ring';
import { handOverLeftBehind, handOverSegment, segmentedRecord, segmentHere, undeliveredMoved, type SegmentDeps } from '@airlock/server/sessions/record-segments';
import { deliverRecording, type RecordingPlan } from '@airlock/server/sessions/recording';
import { describeRecordProblem, verifySessionRecord } from '@airlock/server/sessions/verify-record';
import { openDatabase, type Db, type OpenDb } from '@airlock/server/storage/db';
import type { SessionsTable } from '@airlock/server/storage/schema';
import { BACKENDS, MovableClock, quietLogger, temporaryDirectory, withSchema } from '@airlock/testkit';

const START = Date.parse('2026-11-29T09:00:00Z');
const LOG_GROUP = '/airlock/moved-sessions';

/** A terminal frame as the broker records it, a line each (so a log event each); `at` orders it in time (ms after START). */
function frame(direction: Direction, inSeq: number, at: number): RecordEntry {
  return { direction, type: data.FrameType.Data, flags: 0, stream: 0, inSeq, outSeq: inSeq, time: START + at, payload: Buffer.from(`${direction} ${inSeq}\n`) };
}

/** Input and output frames `from`..`to`, input n at n·10 ms (+`shift`), its output 1 ms after. */
function frames(from: number, to: number, shift = 0): RecordEntry[] {
  const entries: RecordEntry[] = [];
  for (let seq = from; seq <= to; seq++) entries.push(frame('input', seq, seq * 10 + shift), frame('output', seq, seq * 10 + shift + 1));
  return entries;
}

const said = (entries: readonly RecordEntry[]): string[] => entries.map((entry) => Buffer.from(entry.payload).toString());

/** Writes a node's record file of a session as its broker does (continuing `continued`'s chain). */
async function record(dataDir: string, sessionId: string, entries: readonly RecordEntry[], continued: { head: Buffer; entries: number } = { head: GENESIS, entries: 0 }): Promise<string> {
  const path = recordPath(dataDir, sessionId);
  const errors: Error[] = [];
  const writer = await RecordWriter.open(path, continued, () => undefined, (error) => errors.push(error));
  for (const entry of entries) writer.append(entry);
  await writer.settled();
  await writer.close();
  assert.deepEqual(errors, []);
  return path;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

for (const backend of BACKENDS) {
  describe(`moved sessions' records in segments on ${backend}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    let database: OpenDb;
    let db: Db;
    let audit: AuditTrail;
    let objects: ObjectService;
    let root: string;

    before(async () => {
      const directory = await temporaryDirectory('airlock-record-segments-');
      cleanups.push(directory.remove);
      root = directory.path;
      let databaseUrl: string | undefined;
      if (backend === 'postgres') {
        const schema = await withSchema();
        cleanups.push(schema.drop);
        databaseUrl = schema.url;
      }
      database = await openDatabase({ databaseUrl, dataDir: root });
      cleanups.push(() => database.close());
      db = database.db;
      audit = new AuditTrail(db, 'local');
      objects = await ObjectService.open({ dataDir: root, objectStore: { kind: 'local' } }, { db, clock: new MovableClock(), log: quietLogger() });
      cleanups.push(() => objects.close());
    });
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    /** Node `node`'s data directory (each node has its own disk). */
    async function nodeDir(node: string): Promise<string> {
      const path = join(root, `node-${node}`);
      await mkdir(path, { recursive: true });
      return path;
    }

    async function deps(node: string): Promise<SegmentDeps> {
      return { db, audit, dataDir: await nodeDir(node), node, now: () => START + 60_000 };
    }

    /** A session's row: carried by `node` now, by `carriers` before. */
    async function session(node: string, carriers: readonly string[] | null, status: SessionsTable['status'] = 'Terminated', plan?: RecordingPlan): Promise<string> {
      const sessionId = `alice-${randomBytes(9).toString('hex').slice(0, 17)}`;
      await db
        .insertInto('sessions')
        .values({
          session_id: sessionId,
          account_id: '123456789012',
          target: 'mi-0123456789abcdef0',
          owner_arn: 'arn:aws:iam::123456789012:user/alice',
          owner_user_id: 'AIDAALICE',
          document_name: 'SSM-SessionManagerRunShell',
          reason: null,
          work: JSON.stringify({ kind: 'shell' }),
          status,
          details: null,
          started_at: START,
          ended_at: status === 'Terminated' ? START + 50_000 : null,
          idle_timeout_ms: 1_200_000,
          max_duration_ms: null,
          node_id: node,
          token_hash: null,
          token_expires_at: null,
          agent_nonce: null,
          recording: plan === undefined ? null : JSON.stringify(plan),
          carriers: carriers === null ? null : JSON.stringify(carriers),
          segments_delivered_at: null,
        })
        .execute();
      return sessionId;
    }

    const row = (sessionId: string): Promise<SessionsTable> => db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirstOrThrow();

    /** Node c recorded frames 1..6 each way; the session moved to a, whose clients sent 4..6 again, and went on to 9. */
    async function recordedOnCAndA(sessionId: string): Promise<void> {
      await record(await nodeDir('c'), sessionId, frames(1, 6));
      await record(await nodeDir('a'), sessionId, frames(4, 9, 5));
    }
    const everyFrameOnce = said(frames(1, 9));

    const sealsOf = async (sessionId: string): Promise<{ node: string | undefined; entries: number }[]> => {
      const rows = await db.selectFrom('audit_events').select('record').where('event_name', '=', 'SealSessionRecord').orderBy('seq').execute();
      return rows
        .map((one) => JSON.parse(one.record) as { requestParameters: { sessionId: string }; responseElements: { node?: string; entries: number } })
        .filter((one) => one.requestParameters.sessionId === sessionId)
        .map((one) => ({ node: one.responseElements.node, entries: one.responseElements.entries }));
    };

    test('two nodes handed over: every frame once, in order; each file gone; each segment sealed naming its node', async () => {
      const sessionId = await session('a', ['c']);
      await recordedOnCAndA(sessionId);
      await handOverSegment(await deps('c'), sessionId);
      await handOverSegment(await deps('a'), sessionId);

      const merged = await segmentedRecord(db, await row(sessionId));
      assert.deepEqual(said(merged.entries), everyFrameOnce);
      assert.deepEqual(merged.missing, []);
      assert.deepEqual(
        merged.segments.map((segment) => [segment.node, segment.read.entries.length, segment.read.brokenAt]),
        [
          ['c', 12, undefined],
          ['a', 12, undefined],
        ],
      );
      assert.equal(await exists(recordPath(await nodeDir('c'), sessionId)), false, "c's file is removed");
      assert.equal(await exists(recordPath(await nodeDir('a'), sessionId)), false, "a's file is removed");
      assert.deepEqual(await sealsOf(sessionId), [
        { node: 'c', entries: 12 },
        { node: 'a', entries: 12 },
      ]);
    });

    test('delivered once the session ended and every segment is in, and only once', async () => {
      const sessionId = await session('a', ['c'], 'Connected', { logGroupName: LOG_GROUP, keyPrefix: '', encrypted: false });
      await recordedOnCAndA(sessionId);
      const delivery = { db, objects, dataDir: await nodeDir('a'), now: () => START + 70_000 };
      const delivered = async (): Promise<string[]> => {
        const events = await db
          .selectFrom('log_events')
          .innerJoin('log_streams', 'log_streams.stream_id', 'log_events.stream_id')
          .select('message')
          .where('log_streams.name', '=', sessionId)
          .orderBy('log_events.event_time')
          .orderBy('log_events.seq')
          .execute();
        return events.map((event) => {
          const body = JSON.parse(event.message) as { input?: string; output?: string };
          return body.input === undefined ? `output: ${body.output ?? ''}` : `input: ${body.input}`;
        });
      };

      // a's segment is in, c's is not: the record is not whole.
      await handOverSegment(await deps('a'), sessionId);
      assert.deepEqual((await segmentedRecord(db, await row(sessionId))).missing, ['c']);
      const verified = await verifySessionRecord(db, await nodeDir('a'), sessionId);
      assert.deepEqual(
        verified.problems.filter((problem) => problem.kind === 'missing'),
        [{ kind: 'missing', node: 'c' }],
      );
      await db.updateTable('sessions').set({ status: 'Terminated', ended_at: START + 50_000 }).where('session_id', '=', sessionId).execute();
      await deliverRecording(delivery, sessionId);
      assert.deepEqual(await delivered(), [], 'nothing delivered while a segment is missing');

      // Both in, still running (a test of the end, not only of the segments).
      await db.updateTable('sessions').set({ status: 'Connected', ended_at: null }).where('session_id', '=', sessionId).execute();
      await handOverSegment(await deps('c'), sessionId);
      assert.deepEqual((await segmentedRecord(db, await row(sessionId))).missing, []);
      await deliverRecording(delivery, sessionId);
      assert.deepEqual(await delivered(), [], 'nothing delivered before the session ended');
      assert.equal((await row(sessionId)).segments_delivered_at, null);

      await db.updateTable('sessions').set({ status: 'Terminated', ended_at: START + 50_000 }).where('session_id', '=', sessionId).execute();
      await deliverRecording(delivery, sessionId);
      await deliverRecording({ ...delivery, dataDir: await nodeDir('c') }, sessionId);
      assert.deepEqual(await delivered(), everyFrameOnce.map((line) => `${line.split(' ')[0] ?? ''}: ${line}`));
      assert.equal((await row(sessionId)).segments_delivered_at, START + 70_000);
    });

    test('a file handed over twice (a stop before it was removed) is stored once; a later file of the same node is appended', async () => {
      const sessionId = await session('a', ['c']);
      const dir = await nodeDir('c');
      const path = await record(dir, sessionId, frames(1, 3));
      const kept = join(root, `${sessionId}.kept`);
      await copyFile(path, kept);
      await handOverSegment(await deps('c'), sessionId);
      await copyFile(kept, path);
      await handOverSegment(await deps('c'), sessionId);
      assert.equal(await exists(path), false);
      const once = (await segmentedRecord(db, await row(sessionId))).segments[0];
      assert.equal(once?.node, 'c');
      assert.deepEqual(said(once.read.entries), said(frames(1, 3)), 'stored once, not twice');
      assert.equal(once.read.brokenAt, undefined);

      // c takes the session back later: its new file continues the handed-over chain and is appended to it.
      const before = await segmentHere(db, dir, sessionId, 'c');
      assert.equal(before.entries.length, 6);
      await record(dir, sessionId, frames(7, 8), { head: before.head, entries: before.entries.length });
      const here = await segmentHere(db, dir, sessionId, 'c');
      assert.deepEqual(said(here.entries), said([...frames(1, 3), ...frames(7, 8)]), 'read here as one chain before it is handed over (what a revive goes on from)');
      assert.equal(here.brokenAt, undefined);
      await handOverSegment(await deps('c'), sessionId);
      const appended = (await segmentedRecord(db, await row(sessionId))).segments[0];
      assert.equal(appended?.node, 'c');
      assert.deepEqual(said(appended.read.entries), said([...frames(1, 3), ...frames(7, 8)]));
      assert.equal(appended.read.brokenAt, undefined, 'one chain across both files');
      assert.deepEqual(
        (await sealsOf(sessionId)).map((seal) => seal.entries),
        [6, 6, 10],
      );
    });

    test('an ended moved session whose delivery is not done is listed for the next start; one that goes nowhere is done once handed over', async () => {
      const plan: RecordingPlan = { logGroupName: LOG_GROUP, keyPrefix: '', encrypted: false };
      const waiting = await session('a', ['c'], 'Terminated', plan);
      await record((await deps('c')).dataDir, waiting, frames(1, 2));
      await handOverSegment(await deps('c'), waiting);
      const nowhere = await session('a', ['c'], 'Terminated');
      for (const node of ['c', 'a']) {
        await record((await deps(node)).dataDir, nowhere, frames(1, 2));
        await handOverSegment(await deps(node), nowhere);
      }
      const delivery = { db, objects, dataDir: (await deps('a')).dataDir, now: () => START + 70_000 };
      await deliverRecording(delivery, nowhere);
      const listed = await undeliveredMoved(db);
      assert.ok(listed.includes(waiting), 'missing a segment: listed');
      assert.ok(!listed.includes(nowhere), 'nothing to deliver to, all segments in: done');
      await record((await deps('a')).dataDir, waiting, frames(2, 3));
      await handOverSegment(await deps('a'), waiting);
      await deliverRecording(delivery, waiting);
      assert.ok(!(await undeliveredMoved(db)).includes(waiting), 'delivered: no longer listed');
    });

    test('at its start a node hands over only the sessions that moved off it, or ended on it unhanded, and that it has a file of', async () => {
      const c = await deps('c');
      const movedOff = await session('a', ['c'], 'Connected');
      const movedNoFile = await session('a', ['c'], 'Connected');
      const backOnC = await session('c', ['c', 'a'], 'Connected');
      const endedOnC = await session('c', ['a'], 'Terminated');
      const neverOnC = await session('a', ['b'], 'Connected');
      const neverMoved = await session('a', null, 'Connected');
      for (const sessionId of [movedOff, backOnC, endedOnC, neverOnC, neverMoved]) await record(c.dataDir, sessionId, frames(1, 2));

      assert.deepEqual((await handOverLeftBehind(c)).sort(), [movedOff, endedOnC].sort());
      assert.equal(await exists(recordPath(c.dataDir, endedOnC)), false, 'a moved session that ended on C before its segment was handed over: handed over now');
      assert.equal(await exists(recordPath(c.dataDir, movedOff)), false);
      const stored = await segmentedRecord(db, await row(movedOff));
      assert.deepEqual(
        stored.segments.map((segment) => [segment.node, said(segment.read.entries)]),
        [['c', said(frames(1, 2))]],
      );
      assert.deepEqual(stored.missing, ['a']);
      for (const sessionId of [backOnC, neverOnC, neverMoved]) assert.equal(await exists(recordPath(c.dataDir, sessionId)), true, `${sessionId}'s file stays`);
      for (const sessionId of [movedNoFile, backOnC, neverOnC, neverMoved]) {
        const parts = await db.selectFrom('record_segments').select('node_id').where('session_id', '=', sessionId).execute();
        assert.deepEqual(parts, [], `nothing of ${sessionId} handed over`);
      }
      assert.deepEqual(await handOverLeftBehind(c), [], 'nothing left the second time');
    });

    test("verify: a moved session's segments pass untouched; an edited byte is reported in its node's segment", async () => {
      const sessionId = await session('a', ['c']);
      await recordedOnCAndA(sessionId);
      await handOverSegment(await deps('c'), sessionId);
      await handOverSegment(await deps('a'), sessionId);
      const dataDir = await nodeDir('a');
      const untouched = await verifySessionRecord(db, dataDir, sessionId);
      assert.deepEqual(untouched.problems, []);
      assert.deepEqual(said(untouched.recorded), everyFrameOnce);

      // The last payload byte of a's first entry, in the database.
      const part = await db.selectFrom('record_segments').select('body').where('session_id', '=', sessionId).where('node_id', '=', 'a').where('part', '=', 0).executeTakeFirstOrThrow();
      const bytes = Buffer.from(part.body, 'base64');
      const firstEnd = 4 + bytes.readUInt32BE(0);
      const edited = firstEnd - HASH - 1;
      bytes[edited] = (bytes[edited] ?? 0) ^ 0x20;
      assert.notDeepEqual(said(parseRecord(bytes).entries.slice(0, 1)), ['input 4'], 'the byte edited is in the payload');
      await db.updateTable('record_segments').set({ body: bytes.toString('base64') }).where('session_id', '=', sessionId).where('node_id', '=', 'a').where('part', '=', 0).execute();

      const verified = await verifySessionRecord(db, dataDir, sessionId);
      assert.deepEqual(verified.problems, [{ kind: 'broken', entry: 0, node: 'a' }]);
      assert.match(describeRecordProblem(verified.problems[0] ?? { kind: 'missing' }), /^node a's segment: entry 0 does not chain/);
    });
  });
}
