/**
 * The session record at work, on both backends: the server stops in the middle of a session
 * and starts again on the same data; the session comes back from its record, the agent and the
 * client reconnect and resume, and every byte each side sent arrives once, in order. The record
 * is hash-chained, and sealed into the audit trail when the session ends.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cloudtrail, sessions } from '@airlock/protocol';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { readRecord, recordPath } from '@airlock/server/sessions/record';
import { verifySessionRecord } from '@airlock/server/sessions/verify-record';
import { BACKENDS, joinSession, recordedText, SimulatedAgent, startTestServer, type TestServer } from '@airlock/testkit';

const chunk = (index: number): string => `output ${index} `.padEnd(1000, '.');

for (const backend of BACKENDS) {
  describe(`session records on ${backend}`, () => {
    let server: TestServer | undefined;
    after(async () => {
      await server?.stop();
    });

    test('a server restart mid-session: the session is revived from its record and both sides resume, nothing lost or doubled', async () => {
      server = await startTestServer({ backend });
      const agent = await SimulatedAgent.register(server);
      await agent.connect(server);
      const started = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
      const session = await joinSession(server, agent, started);
      const { client, host } = session;

      let sent = 0;
      for (; sent < 200; sent++) host.sendText(chunk(sent));
      client.sendText('before ');
      await client.waitFor(() => client.text().length >= 100 * 1000, 'some output');

      // Stop in the middle; what is in flight stays with its sender, or in the record.
      const port = new URL(server.url).port;
      agent.disconnect();
      server = await server.restart({ flags: { listen: `127.0.0.1:${port}` } });
      for (; sent < 400; sent++) host.sendText(chunk(sent));
      client.sendText('after');

      const again = await session.agentBack(server);
      assert.equal(again.resume, true, 'a revived session asks the agent only to resume');
      await session.hostBack();
      await session.clientBack(server.root);

      const expected = Array.from({ length: 400 }, (_unused, index) => chunk(index)).join('');
      await client.waitFor(() => client.text().length >= expected.length, 'all the output', 15_000);
      assert.equal(client.text(), expected);
      await host.waitFor(() => host.text() === 'before after', 'all the input');

      // The record holds both directions, chained; ending it seals it into the audit trail.
      const running = server;
      await running.root.call(sessions.TerminateSession, { SessionId: started.SessionId });
      const record = await readRecord(recordPath(running.dataDir, started.SessionId));
      assert.equal(record.brokenAt, undefined);
      assert.equal(recordedText(record.entries, 'output'), expected);
      assert.equal(recordedText(record.entries, 'input'), 'before after');
      const head = record.head.toString('hex');
      let sealed: unknown;
      for (let attempt = 0; attempt < 50 && sealed === undefined; attempt++) {
        const { Events } = await running.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'SealSessionRecord' }] });
        sealed = Events.find((event) => event.CloudTrailEvent.includes(head));
        if (sealed === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(sealed !== undefined, 'the chain head is in the audit trail');

      // audit verify --session: the record as sealed verifies; an edited byte or a cut tail does not.
      const { db } = running.server.services;
      const path = recordPath(running.dataDir, started.SessionId);
      assert.deepEqual((await verifySessionRecord(db, running.dataDir, started.SessionId)).problems, []);
      const original = await readFile(path);
      const edited = Buffer.from(original);
      const at = edited.indexOf('output 123 ');
      edited[at + 7] = '9'.charCodeAt(0);
      await writeFile(path, edited);
      assert.deepEqual(
        (await verifySessionRecord(db, running.dataDir, started.SessionId)).problems.map((problem) => problem.kind),
        ['broken'],
      );
      await writeFile(path, original);
      await truncate(path, original.length - 100);
      const cut = await verifySessionRecord(db, running.dataDir, started.SessionId);
      assert.deepEqual(cut.problems.map((problem) => problem.kind).sort(), ['count', 'head', 'torn']);
      await writeFile(path, original);
      agent.disconnect();
    });
  });
}
