/**
 * Input typed at a password prompt stays out of every record, on both backends: once the agent
 * says (a Mode frame) that the terminal hides input, the client's keystrokes reach the agent
 * unchanged but the record, the log events (streamed and delivered), the `.log` and the `.cast`
 * hold only a marker; once the agent says echo is back, input is recorded again. The mode
 * outlives a server restart (the record holds it). The agent is played by the testkit here; the
 * real agent and real PTYs are in packages/agent/test/password-redaction.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { data, documents, logs, sessions } from '@airlock/protocol';
import { readRecord, recordPath } from '@airlock/server/sessions/record';
import { auditVerify, BACKENDS, joinSession, sessionPreferences, SimulatedAgent, startTestServer, type SimulatedSession, type TestServer } from '@airlock/testkit';

const PASSWORD = 'hunter2-Sw0rdfish';
const HIDDEN = '[input hidden: echo off]';
const preferences = (streaming: boolean): string =>
  sessionPreferences({ s3BucketName: 'session-recordings', s3KeyPrefix: 'sessions', s3EncryptionEnabled: false, cloudWatchLogGroupName: 'SessionManagerLogGroup', cloudWatchStreamingEnabled: streaming });

const mode = (echo: boolean, canonical: boolean): data.Outgoing => ({ type: data.FrameType.Mode, payload: data.modePayload({ echo, canonical }) });

for (const backend of BACKENDS) {
  describe(`password redaction on ${backend}`, () => {
    let server: TestServer;
    let agent: SimulatedAgent;

    before(async () => {
      server = await startTestServer({ backend });
      agent = await SimulatedAgent.register(server);
      await agent.connect(server);
      await server.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: preferences(true), DocumentType: 'Session' });
    });
    after(async () => {
      agent.disconnect();
      await server.stop();
    });

    async function open(): Promise<SimulatedSession & { id: string }> {
      const started = await server.root.call(sessions.StartSession, { Target: agent.instanceId });
      return { ...(await joinSession(server, agent, started)), id: started.SessionId };
    }

    /** Every copy of the session's record, as text: the record file's bytes, the log events, both objects. */
    async function everyCopy(id: string): Promise<{ record: string; events: string[]; log: string; cast: string }> {
      const { objects } = server.server.services;
      let log: string | undefined;
      let cast: string | undefined;
      for (let attempt = 0; attempt < 100 && cast === undefined; attempt++) {
        await objects.outbox.drain();
        log = (await objects.store.get('session-recordings', `sessions/${id}.log`))?.body.toString('utf8');
        cast = (await objects.store.get('session-recordings', `sessions/${id}.cast`))?.body.toString('utf8');
        if (cast === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: 'SessionManagerLogGroup', logStreamName: id, startFromHead: true });
      return { record: (await readFile(recordPath(server.dataDir, id))).toString('latin1'), events: events.map((event) => event.message), log: log ?? '', cast: cast ?? '' };
    }

    test('keystrokes at a password prompt reach the agent, and every record holds a marker instead (streamed events too)', async () => {
      const { id, client, host } = await open();
      client.sendText('sudo true\r');
      await host.waitFor(() => host.text() === 'sudo true\r', 'the command');
      host.send(mode(false, true));
      host.sendText('sudo true\r\n[sudo] password for ssm-user: ');
      await client.waitFor(() => client.text().endsWith('password for ssm-user: '), 'the prompt');
      assert.ok(client.frames.some((frame) => frame.type === data.FrameType.Mode), 'the client has the Mode too');
      // Key by key, as a person types, then Enter.
      for (const key of Array.from(`${PASSWORD}\r`)) client.sendText(key);
      await host.waitFor(() => host.text() === `sudo true\r${PASSWORD}\r`, 'the password, unchanged, at the agent');
      host.send(mode(true, true));
      host.sendText('\r\n$ ');
      await client.waitFor(() => client.text().endsWith('$ '), 'the next prompt');
      client.sendText('whoami\r');
      await host.waitFor(() => host.text().endsWith('whoami\r'), 'the next command');
      host.sendText('whoami\r\nssm-user\r\n$ ');
      await client.waitFor(() => client.text().endsWith('ssm-user\r\n$ '), 'its output');
      await server.root.call(sessions.TerminateSession, { SessionId: id });

      const copies = await everyCopy(id);
      for (const [where, text] of Object.entries(copies)) {
        const all = Array.isArray(text) ? text.join('\n') : text;
        assert.ok(!all.includes(PASSWORD.slice(0, 7)), `the password is not in the ${where}`);
        assert.ok(all.includes('whoami'), `the next command is in the ${where}`);
      }
      const messages = copies.events.map((message) => JSON.parse(message) as Record<string, unknown>);
      assert.deepEqual(
        messages.map((message) => message['input'] ?? message['output']),
        ['sudo true\r', 'sudo true\r\n[sudo] password for ssm-user: ', HIDDEN, '\r\n$ ', 'whoami\r', 'whoami\r\nssm-user\r\n$ '],
      );
      assert.equal(messages.filter((message) => message['withheld'] === true).length, 1, 'one marker for the password typed key by key');
      assert.equal(copies.log, `sudo true\n[sudo] password for ssm-user: ${HIDDEN}\n$ whoami\nssm-user\n$ `);
      const markers = copies.cast.trim().split('\n').map((line) => JSON.parse(line) as unknown).filter((event) => Array.isArray(event) && event[1] === 'm');
      assert.deepEqual(markers.map((event) => (event as unknown[])[2]), [HIDDEN], 'one marker for the password typed key by key');

      // The record says which entries were withheld.
      const { entries } = await readRecord(recordPath(server.dataDir, id));
      const withheld = entries.filter((entry) => entry.withheld === true);
      assert.equal(withheld.length, PASSWORD.length + 1);
      assert.ok(withheld.every((entry) => entry.direction === 'input' && entry.type === data.FrameType.Data && entry.payload.length === 0));
      // airlock audit verify --session: the record against its seal, the copies against the record.
      const verified = await auditVerify(id, { dataDir: server.dataDir, databaseUrl: server.server.services.config.databaseUrl, untilMs: 5_000 });
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    });

    test("readline and editors (echo and canonical off) are recorded: they show what they take", async () => {
      const { id, client, host } = await open();
      host.send(mode(false, false));
      host.sendText('$ ');
      await client.waitFor(() => client.text() === '$ ', 'the prompt');
      client.sendText('ls\r');
      await host.waitFor(() => host.text() === 'ls\r', 'the command');
      await server.root.call(sessions.TerminateSession, { SessionId: id });
      // Delivered, so sealed: the record is whole.
      assert.ok((await everyCopy(id)).events.some((message) => message.includes('"input":"ls\\r"')));
      const { entries } = await readRecord(recordPath(server.dataDir, id));
      const input = entries.filter((entry) => entry.direction === 'input' && entry.type === data.FrameType.Data);
      assert.deepEqual(input.map((entry) => [data.fromUtf8(entry.payload), entry.withheld ?? false]), [['ls\r', false]]);
    });

    test('a Mode frame off the terminal, or with bits nobody knows, is a broken agent: its channel is closed (4400)', async () => {
      for (const frame of [{ ...mode(false, true), stream: 3 }, { type: data.FrameType.Mode, payload: Uint8Array.of(0x40) }]) {
        const { id, host } = await open();
        host.send(frame);
        await host.waitFor(() => host.closed !== undefined, 'the close');
        assert.equal(host.closed?.code, 4400);
        await server.root.call(sessions.TerminateSession, { SessionId: id });
      }
    });

    test('the prompt outlives a server restart: input after it is still withheld', async () => {
      await server.root.call(documents.UpdateDocument, { Name: 'SSM-SessionManagerRunShell', Content: preferences(false), DocumentVersion: '$LATEST' });
      const session = await open();
      const { id, client, host } = session;
      host.send(mode(false, true));
      host.sendText('Password: ');
      await client.waitFor(() => client.text() === 'Password: ', 'the prompt');
      const port = new URL(server.url).port;
      agent.disconnect();
      server = await server.restart({ flags: { listen: `127.0.0.1:${port}` } });
      await session.agentBack(server);
      await session.hostBack();
      await session.clientBack(server.root);
      client.sendText(`${PASSWORD}\r`);
      await host.waitFor(() => host.text() === `${PASSWORD}\r`, 'the password at the agent');
      await server.root.call(sessions.TerminateSession, { SessionId: id });
      const copies = await everyCopy(id);
      assert.ok(!copies.record.includes(PASSWORD.slice(0, 7)), 'not in the record');
      assert.ok(!copies.events.join('\n').includes(PASSWORD.slice(0, 7)), 'not in the log events');
      assert.ok(copies.events.some((message) => message.includes(HIDDEN)), 'the marker is');
    });
  });
}
