/**
 * The session record at work, on both backends: the server stops in the middle of a session
 * and starts again on the same data; the session comes back from its record, the agent and the
 * client reconnect and resume, and every byte each side sent arrives once, in order. The record
 * is hash-chained, and sealed into the audit trail when the session ends.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cloudtrail, data, sessions } from '@airlock/protocol';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { readRecord, recordPath, type RecordEntry } from '@airlock/server/sessions/record';
import { verifySessionRecord } from '@airlock/server/sessions/verify-record';
import { BACKENDS, joinSession, recordedText, SimulatedAgent, startTestServer, type DataPeer, type TestServer } from '@airlock/testkit';

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

    test("a port session's forwarded bytes: counted, not kept, when both ends can resume without them; kept, and revived from, when an end is older; a shell's stream is never elided", async () => {
      await server?.stop();
      server = await startTestServer({ backend });
      const agent = await SimulatedAgent.register(server);
      await agent.connect(server);
      const forward = { DocumentName: 'AWS-StartPortForwardingSession', Parameters: { portNumber: ['8080'] } };
      const connect = async (session: { client: DataPeer; host: DataPeer }): Promise<void> => {
        session.client.send({ type: data.FrameType.Open, stream: 1 });
        await session.host.waitFor(() => session.host.frames.some((frame) => frame.type === data.FrameType.Open), 'the Open');
        session.host.send({ type: data.FrameType.Open, stream: 1, flags: data.FrameFlag.Ok });
      };
      const forwarded = async (sessionId: string): Promise<RecordEntry[]> => {
        const { entries } = await readRecord(recordPath(server?.dataDir ?? '', sessionId));
        return entries.filter((entry) => entry.type === data.FrameType.Data && entry.stream === 1);
      };

      const current = await joinSession(server, agent, await server.root.call(sessions.StartSession, { Target: agent.instanceId, ...forward }));
      await connect(current);
      current.host.sendText('from the destination', 1);
      await current.client.waitFor(() => current.client.text(1) === 'from the destination', 'the bytes');
      // Acknowledged to its sender: in the record on disk.
      await current.host.waitFor(() => current.host.link.delivered === current.host.link.sent, 'the acknowledgement');
      const counted = await forwarded(current.sessionId);
      assert.deepEqual(counted.map((entry) => [entry.payload.length, entry.elided]), [[0, 'from the destination'.length]]);

      // A client that cannot say what of its own was acknowledged: the bytes stay in the record, which the session comes back from.
      const older = await joinSession(server, agent, await server.root.call(sessions.StartSession, { Target: agent.instanceId, ...forward }), { client: { saysAcknowledged: false } });
      await connect(older);
      older.host.sendText('first ', 1);
      older.client.sendText('request ', 1);
      await older.client.waitFor(() => older.client.text(1) === 'first ', 'the first bytes');
      await older.host.waitFor(() => older.host.text(1) === 'request ', 'the first request');
      await older.host.waitFor(() => older.host.link.delivered === older.host.link.sent, "the destination's bytes acknowledged");
      await older.client.waitFor(() => older.client.link.delivered === older.client.link.sent, "the client's bytes acknowledged");
      assert.deepEqual((await forwarded(older.sessionId)).map((entry) => [data.fromUtf8(entry.payload), entry.elided]).sort(), [['first ', undefined], ['request ', undefined]]);
      const port = new URL(server.url).port;
      agent.disconnect();
      server = await server.restart({ flags: { listen: `127.0.0.1:${port}` } });
      older.host.sendText('second', 1);
      older.client.sendText('again', 1);
      await older.agentBack(server);
      await older.hostBack();
      await older.clientBack(server.root);
      await older.client.waitFor(() => older.client.text(1) === 'first second', 'every byte from the destination, once');
      await older.host.waitFor(() => older.host.text(1) === 'request again', 'every byte to it, once');

      // A shell session has no forwarded connections: whatever comes on another stream is kept whole.
      const shell = await joinSession(server, agent, await server.root.call(sessions.StartSession, { Target: agent.instanceId }));
      shell.client.sendText('not a connection', 1);
      await shell.host.waitFor(() => shell.host.text(1) === 'not a connection', 'the bytes at the agent');
      await shell.client.waitFor(() => shell.client.link.delivered >= 1, 'the acknowledgement');
      assert.deepEqual((await forwarded(shell.sessionId)).map((entry) => [data.fromUtf8(entry.payload), entry.elided]), [['not a connection', undefined]]);
      for (const { client, host } of [current, older, shell]) {
        client.close();
        host.close();
      }
      agent.disconnect();
    });
  });
}
