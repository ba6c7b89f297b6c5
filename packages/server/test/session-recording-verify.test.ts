/**
 * `airlock audit verify --session ID` on the delivered copies, on both backends: after a
 * recorded session's end, the events in its log stream and the two objects in its bucket are
 * checked against its record. An event edited, deleted or added, or an object edited or
 * deleted, is found and named with where (the event's place in the stream, the object's line);
 * untouched copies verify.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { documents, logs, sessions } from '@airlock/protocol';
import { readRecord, recordPath } from '@airlock/server/sessions/record';
import { verifyDeliveredCopies, type DeliveryProblem } from '@airlock/server/sessions/verify-delivery';
import { auditVerify as runAuditVerify, BACKENDS, joinSession, sessionPreferences, SimulatedAgent, startTestServer, type TestServer } from '@airlock/testkit';

const GROUP = 'SessionManagerLogGroup';
const BUCKET = 'session-recordings';
const PREFERENCES = sessionPreferences({ s3BucketName: BUCKET, s3KeyPrefix: 'audit', s3EncryptionEnabled: false, cloudWatchLogGroupName: GROUP, cloudWatchStreamingEnabled: false });
const EXCHANGES: readonly (readonly [string, string])[] = [
  ['whoami\r', 'whoami\r\nssm-user\r\n$ '],
  ['hostname\r', 'hostname\r\nprod-server01\r\n$ '],
  ['date\r', 'date\r\nSat Nov 28 18:00:00 UTC 2026\r\n$ '],
];

for (const backend of BACKENDS) {
  describe(`audit verify --session on the delivered copies, on ${backend}`, () => {
    let server: TestServer;
    let agent: SimulatedAgent;

    before(async () => {
      server = await startTestServer({ backend });
      agent = await SimulatedAgent.register(server);
      await agent.connect(server);
      await server.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: PREFERENCES, DocumentType: 'Session' });
    });
    after(async () => {
      agent.disconnect();
      await server.stop();
    });

    /** A shell session with three commands and their outputs, ended and delivered to the log group and bucket. */
    async function deliveredSession(): Promise<string> {
      const started = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
      const { client, host } = await joinSession(server, agent, started);
      for (const [input, output] of EXCHANGES) {
        client.sendText(input);
        await host.waitFor(() => host.text().endsWith(input), 'the input');
        host.sendText(output);
        await client.waitFor(() => client.text().endsWith(output), 'the output');
      }
      await server.root.call(sessions.TerminateSession, { SessionId: started.SessionId });
      const { objects } = server.server.services;
      for (let attempt = 0; ; attempt++) {
        await objects.outbox.drain();
        if ((await objects.store.head(BUCKET, `audit/${started.SessionId}.cast`)) !== undefined) break;
        if (attempt > 200) throw new Error('the recording was not delivered');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      host.close();
      client.close();
      return started.SessionId;
    }

    async function problems(sessionId: string): Promise<DeliveryProblem[]> {
      const { entries } = await readRecord(recordPath(server.dataDir, sessionId));
      const { db, objects } = server.server.services;
      return [...(await verifyDeliveredCopies({ db, store: objects.store, now: server.clock.now() }, sessionId, entries)).problems];
    }

    const auditVerify = (sessionId: string): Promise<{ code: number; stdout: string }> => runAuditVerify(sessionId, { dataDir: server.dataDir, databaseUrl: server.server.services.config.databaseUrl });

    async function streamRows(sessionId: string) {
      const { db } = server.server.services;
      const stream = await db.selectFrom('log_streams').select('stream_id').where('name', '=', sessionId).executeTakeFirstOrThrow();
      return db.selectFrom('log_events').selectAll().where('stream_id', '=', stream.stream_id).orderBy('seq').execute();
    }

    test('untouched copies verify: the record, its 6 log events and both objects', async () => {
      const id = await deliveredSession();
      assert.deepEqual(await problems(id), []);
      const { code, stdout } = await auditVerify(id);
      assert.equal(code, 0, stdout);
      assert.match(stdout, new RegExp(`^verified session ${id}: \\d+ entries, sealed chain head [0-9a-f]{64}; 6 log events match; objects ${BUCKET}/audit/${id}\\.log, ${BUCKET}/audit/${id}\\.cast match\\n$`));
    });

    test('an edited log event is named by its place in the stream, with what it reads and what the record has', async () => {
      const id = await deliveredSession();
      const rows = await streamRows(id);
      const third = rows[2];
      assert.ok(third !== undefined);
      assert.match(third.message, /"input":"hostname\\r"/);
      const edited = third.message.replace('hostname', 'ls -la /');
      await server.server.services.db.updateTable('log_events').set({ message: edited }).where('stream_id', '=', third.stream_id).where('seq', '=', third.seq).execute();
      const found = await problems(id);
      assert.deepEqual(
        found.map((problem) => ({ kind: problem.kind, position: 'position' in problem ? problem.position : undefined })),
        [{ kind: 'event-edited', position: 3 }],
      );
      const { code, stdout } = await auditVerify(id);
      assert.equal(code, 1);
      assert.match(stdout, new RegExp(`session ${id}: log group ${GROUP}: event 3 of the stream is not the record's event 3: it reads .*ls -la /.* where the record has .*hostname`));
      assert.match(stdout, /session record NOT verified: 1 problem\n$/);
    });

    test('a deleted log event is named as missing, after the event before it', async () => {
      const id = await deliveredSession();
      const rows = await streamRows(id);
      const fourth = rows[3];
      assert.ok(fourth !== undefined);
      await server.server.services.db.deleteFrom('log_events').where('stream_id', '=', fourth.stream_id).where('seq', '=', fourth.seq).execute();
      const found = await problems(id);
      assert.deepEqual(
        found.map((problem) => (problem.kind === 'event-missing' ? { kind: problem.kind, recordEvent: problem.recordEvent, after: problem.after } : problem)),
        [{ kind: 'event-missing', recordEvent: 4, after: 3 }],
      );
      assert.match((await auditVerify(id)).stdout, /the record's event 4 \(.*prod-server01.*\) is missing from the stream, after its event 3/);
    });

    test('an event added with PutLogEvents is named as added, by its place', async () => {
      const id = await deliveredSession();
      const rows = await streamRows(id);
      const last = rows[rows.length - 1];
      assert.ok(last !== undefined);
      const forged = JSON.stringify({ sessionId: id, target: agent.instanceId, output: 'nothing to see here\r\n' });
      await server.root.call(logs.PutLogEvents, { logGroupName: GROUP, logStreamName: id, logEvents: [{ timestamp: last.event_time, message: forged }] });
      const found = await problems(id);
      assert.deepEqual(
        found.map((problem) => (problem.kind === 'event-added' ? { kind: problem.kind, position: problem.position, message: problem.found.message } : problem)),
        [{ kind: 'event-added', position: rows.length + 1, message: forged }],
      );
      assert.match((await auditVerify(id)).stdout, new RegExp(`event ${rows.length + 1} of the stream \\(.*nothing to see here.*\\) is not in the record: it was added`));
    });

    test('an edited object is named with the first line that differs; a deleted one as deleted', async () => {
      const id = await deliveredSession();
      const { objects } = server.server.services;
      const log = await objects.store.get(BUCKET, `audit/${id}.log`);
      assert.equal(log?.body.toString('utf8'), 'whoami\nssm-user\n$ hostname\nprod-server01\n$ date\nSat Nov 28 18:00:00 UTC 2026\n$ ');
      await objects.store.put({ bucket: BUCKET, key: `audit/${id}.log`, body: Buffer.from(log.body.toString('utf8').replace('prod-server01', 'dev-server01')), contentType: 'text/plain; charset=utf-8' });
      await rm(join(server.dataDir, 'objects', BUCKET, `audit/${id}.cast`));
      const found = await problems(id);
      assert.deepEqual(
        found.map((problem) => (problem.kind === 'object-edited' ? { kind: problem.kind, key: problem.key, line: problem.line } : { kind: problem.kind, key: 'key' in problem ? problem.key : '' })),
        [
          { kind: 'object-edited', key: `audit/${id}.log`, line: 4 },
          { kind: 'object-missing', key: `audit/${id}.cast` },
        ],
      );
      const { code, stdout } = await auditVerify(id);
      assert.equal(code, 1);
      assert.match(stdout, new RegExp(`object s3://${BUCKET}/audit/${id}\\.log differs from the record from line 4`));
      assert.match(stdout, new RegExp(`object s3://${BUCKET}/audit/${id}\\.cast is not in the bucket, and it was uploaded: it was deleted`));
      assert.match(stdout, /NOT verified: 2 problems/);
    });
  });
}
