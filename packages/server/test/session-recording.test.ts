/**
 * Where a session's record goes, on both backends: with the account's preferences naming a log
 * group and a bucket, an ended session's input and output are events in a stream named by the
 * session, and the bucket (the local object store here; the S3 protocol is tested with the
 * store) holds `{prefix}/{id}.log` (readable) and `{id}.cast` (asciicast v2). A port session
 * records each connection's destination, bytes and duration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { data, documents, logs, sessions } from '@airlock/protocol';
import { BACKENDS, joinSession, sessionPreferences, SimulatedAgent, startTestServer, type TestServer } from '@airlock/testkit';

const PREFERENCES = sessionPreferences({ s3BucketName: 'session-recordings', s3KeyPrefix: 'sessions', s3EncryptionEnabled: false, cloudWatchLogGroupName: 'SessionManagerLogGroup', cloudWatchStreamingEnabled: false });

for (const backend of BACKENDS) {
  describe(`session recording on ${backend}`, () => {
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

    async function open(input: { DocumentName?: string; Parameters?: Record<string, string[]> } = {}) {
      const started = await server.root.call(sessions.StartSession, { Target: agent.instanceId, ...input });
      const { client, host } = await joinSession(server, agent, started);
      return { id: started.SessionId, client, host };
    }

    async function streamEvents(sessionId: string, atLeast = 1): Promise<string[]> {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: 'SessionManagerLogGroup', logStreamName: sessionId, startFromHead: true });
          if (events.length >= atLeast) return events.map((event) => event.message);
        } catch {
          // the stream is made when the session's record is delivered
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no events for ${sessionId}`);
    }

    test("the guide's Test 3: the typed command and its output are in the log group and in both objects in the bucket", async () => {
      const { id, client, host } = await open();
      client.send({ type: data.FrameType.Resize, payload: data.resizePayload(100, 30) });
      client.sendText('whoami\r');
      await host.waitFor(() => host.text() === 'whoami\r', 'the input');
      host.sendText('whoami\r\n\u001b[1mssm-user\u001b[0m\r\n$ ');
      await client.waitFor(() => client.text().endsWith('$ '), 'the output');
      await server.root.call(sessions.TerminateSession, { SessionId: id });

      const messages = (await streamEvents(id)).map((message) => JSON.parse(message) as Record<string, unknown>);
      assert.deepEqual(
        messages.map((message) => message['input'] ?? message['output']),
        ['whoami\r', 'whoami\r\n\u001b[1mssm-user\u001b[0m\r\n$ '],
      );
      assert.ok(messages.every((message) => message['sessionId'] === id && message['target'] === agent.instanceId));

      const { objects } = server.server.services;
      await objects.outbox.drain();
      const log = await objects.store.get('session-recordings', `sessions/${id}.log`);
      assert.equal(log?.body.toString('utf8'), 'whoami\nssm-user\n$ ');
      const cast = await objects.store.get('session-recordings', `sessions/${id}.cast`);
      const [header, ...events] = (cast?.body.toString('utf8') ?? '').trim().split('\n').map((line) => JSON.parse(line) as unknown);
      assert.deepEqual({ ...(header as object), timestamp: 0 }, { version: 2, width: 100, height: 30, timestamp: 0, env: { TERM: 'xterm-256color' }, title: `${id} on ${agent.instanceId}` });
      assert.deepEqual(
        events.map((event) => (event as unknown[]).slice(1)),
        [['o', 'whoami\r\n\u001b[1mssm-user\u001b[0m\r\n$ ']],
      );
    });

    test('a port session records each connection: destination, bytes each way, duration', async () => {
      const { id, client, host } = await open({ DocumentName: 'AWS-StartPortForwardingSession', Parameters: { portNumber: ['8080'] } });
      client.send({ type: data.FrameType.Open, stream: 1 });
      await host.waitFor(() => host.frames.some((frame) => frame.type === data.FrameType.Open), 'the Open');
      host.send({ type: data.FrameType.Open, stream: 1, flags: data.FrameFlag.Ok });
      client.sendText('GET / HTTP/1.0\r\n\r\n', 1);
      await host.waitFor(() => host.text(1).length > 0, 'the request');
      host.sendText('HTTP/1.0 200 OK\r\n\r\nhello', 1);
      host.send({ type: data.FrameType.Close, stream: 1, flags: data.FrameFlag.Fin });
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Close), 'the Close');
      await server.root.call(sessions.TerminateSession, { SessionId: id });
      const [connection] = (await streamEvents(id)).map((message) => JSON.parse(message) as Record<string, unknown>);
      assert.equal(connection?.['destination'], 'localhost:8080');
      assert.equal(connection['bytesToDestination'], 'GET / HTTP/1.0\r\n\r\n'.length);
      assert.equal(connection['bytesFromDestination'], 'HTTP/1.0 200 OK\r\n\r\nhello'.length);
      assert.equal(typeof connection['durationMs'], 'number');
    });

    test('cloudWatchStreamingEnabled: the events are in the log stream while the session runs, and once', async () => {
      const streaming = PREFERENCES.replace('"cloudWatchStreamingEnabled":false', '"cloudWatchStreamingEnabled":true');
      await server.root.call(documents.UpdateDocument, { Name: 'SSM-SessionManagerRunShell', Content: streaming, DocumentVersion: '$LATEST' });
      const { id, client, host } = await open();
      // Key by key, as a person types: one input event, so a search finds the command.
      for (const key of Array.from('uptime\r')) client.sendText(key);
      await host.waitFor(() => host.text() === 'uptime\r', 'the input');
      host.sendText(' 14:00:00 up 3 days\r\n');
      host.sendText('$ ');
      await client.waitFor(() => client.text().endsWith('$ '), 'the output');
      // Before the end: the streamer sends each second what is whole; the prompt waits for what follows it.
      const live = (await streamEvents(id, 2)).map((message) => JSON.parse(message) as Record<string, unknown>);
      assert.deepEqual(
        live.map((message) => message['input'] ?? message['output']),
        ['uptime\r', ' 14:00:00 up 3 days\r\n'],
      );
      await server.root.call(sessions.TerminateSession, { SessionId: id });
      // The objects are queued after the log events: once they are there, delivery is done.
      const { objects } = server.server.services;
      for (let attempt = 0; attempt < 100; attempt++) {
        await objects.outbox.drain();
        if ((await objects.store.head('session-recordings', `sessions/${id}.log`)) !== undefined) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok((await objects.store.head('session-recordings', `sessions/${id}.log`)) !== undefined);
      const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: 'SessionManagerLogGroup', logStreamName: id, startFromHead: true });
      assert.deepEqual(
        events.map((event) => Object.keys(JSON.parse(event.message) as object).find((key) => key === 'input' || key === 'output')),
        ['input', 'output', 'output'],
      );
    });

    test('s3EncryptionEnabled with a bucket that does not encrypt: the session is refused, as AWS does', async () => {
      const encrypted = PREFERENCES.replace('"s3EncryptionEnabled":false', '"s3EncryptionEnabled":true');
      await server.root.call(documents.UpdateDocument, { Name: 'SSM-SessionManagerRunShell', Content: encrypted, DocumentVersion: '$LATEST' });
      await assert.rejects(server.root.call(sessions.StartSession, { Target: agent.instanceId }), { name: 'AirlockApiError', code: 'ValidationException', message: /bucket session-recordings does not encrypt/ });
    });
  });
}
