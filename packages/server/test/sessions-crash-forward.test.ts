/**
 * A port session under crashes: its record keeps each forwarded connection's open, close and byte
 * counts, not its bytes, so after a restart it cannot send anything again from the record. It is
 * revived from its two ends instead (each holds what the other has not acknowledged), as a
 * session taken over by another node is. A real server in its own process is killed with SIGKILL
 * at random moments while the destination pours data through a connection and the client types
 * into it; at the end each end has every byte once, in order, and the record counts them once.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, test, type TestContext } from 'node:test';
import { data, documents, logs, sessions } from '@airlock/protocol';
import { readRecord, recordPath } from '@airlock/server/sessions/record';
import { auditVerify, joinSession, sessionPreferences, SimulatedAgent, startServerProcess, type ServerProcess } from '@airlock/testkit';

const KILLS = 4;
/** The loop stops killing after this long, whatever KILLS says. */
const BUDGET_MS = 20_000;
const CHUNK = 4_000;
const CONNECTION = 1;

/** Chunk i: its number, then filler that differs from one chunk to the next (a doubled or lost chunk shows). */
const chunk = (index: number): string => `<${index}>`.padEnd(CHUNK, String.fromCharCode(97 + (index % 26)));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const PREFERENCES = sessionPreferences({ s3BucketName: '', s3EncryptionEnabled: false, cloudWatchLogGroupName: 'SessionManagerLogGroup', cloudWatchStreamingEnabled: false });

let server: ServerProcess | undefined;
after(async () => {
  await server?.stop();
});

test('kill -9 of the server during a port forward: revived from its two ends, every byte once each way, the record counting them once and holding none', { timeout: 90_000 }, async (t) => {
  await crashLoop(t).catch((error: unknown) => {
    t.diagnostic(server?.output() ?? '');
    throw error;
  });
});

async function crashLoop(t: TestContext): Promise<void> {
  const began = Date.now();
  const running = await startServerProcess();
  server = running;
  const agent = await SimulatedAgent.register(running);
  await agent.connect(running);
  await running.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: PREFERENCES, DocumentType: 'Session' });
  const started = await running.root.call(sessions.StartSession, { Target: agent.instanceId, DocumentName: 'AWS-StartPortForwardingSession', Parameters: { portNumber: ['8080'] } });
  const session = await joinSession(running, agent, started);
  const { client, host } = session;
  client.send({ type: data.FrameType.Open, stream: CONNECTION });
  await host.waitFor(() => host.frames.some((frame) => frame.type === data.FrameType.Open), 'the Open at the agent');
  host.send({ type: data.FrameType.Open, stream: CONNECTION, flags: data.FrameFlag.Ok });

  // The destination answers as fast as the agent's window lets it, server or no server.
  let sent = 0;
  let pouring = true;
  const pour = (): void => {
    if (!pouring) return;
    for (let burst = 0; burst < 2 && !host.link.full; burst++) host.sendText(chunk(sent++), CONNECTION);
    setTimeout(pour, 2).unref();
  };
  pour();

  const received = client.byteCounter(CONNECTION);
  let typed = '';
  let kills = 0;
  for (; kills < KILLS && Date.now() - began < BUDGET_MS; kills++) {
    const key = `k${kills} `;
    client.sendText(key, CONNECTION);
    typed += key;
    const receivedBefore = received();
    await client.waitFor(() => received() > receivedBefore, `data before kill ${kills + 1} (sent ${sent} chunks, received ${receivedBefore} bytes)`, 15_000);
    await sleep(randomInt(20, 400));
    await running.kill();
    agent.disconnect();
    await running.start();

    const again = await session.agentBack(running);
    assert.equal(again.resume, true, 'the agent is asked to resume, not to start anew');
    // Neither end hears Ready until both are back: each resumes from what the other acknowledged.
    await Promise.all([session.hostBack(), session.clientBack(running.root)]);
  }
  pouring = false;
  client.sendText('end', CONNECTION);
  typed += 'end';
  assert.ok(kills >= 2, `only ${kills} kills fit in the time budget`);

  const expected = Array.from({ length: sent }, (_unused, index) => chunk(index)).join('');
  await client.waitFor(() => received() >= expected.length, `all ${sent} chunks at the client`, 20_000);
  assert.equal(client.text(CONNECTION).length, expected.length, 'nothing doubled at the client');
  assert.ok(client.text(CONNECTION) === expected, 'the client has every chunk once, in order');
  await host.waitFor(() => host.text(CONNECTION) === typed, 'every keystroke at the destination');

  host.send({ type: data.FrameType.Close, stream: CONNECTION, flags: data.FrameFlag.Fin });
  await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Close), 'the Close at the client');
  await running.root.call(sessions.TerminateSession, { SessionId: started.SessionId });

  // The record: chained end to end, the connection's bytes counted once each way, none of them kept.
  const path = recordPath(running.dataDir, started.SessionId);
  const record = await readRecord(path);
  assert.equal(record.brokenAt, undefined, 'the record chains from end to end');
  const forwarded = record.entries.filter((entry) => entry.type === data.FrameType.Data && entry.stream === CONNECTION);
  assert.ok(forwarded.every((entry) => entry.elided !== undefined && entry.payload.length === 0), 'every forwarded Data entry is elided');
  const counted = (direction: 'input' | 'output'): number => forwarded.filter((entry) => entry.direction === direction).reduce((sum, entry) => sum + (entry.elided ?? 0), 0);
  assert.equal(counted('output'), expected.length, 'the record counts every byte from the destination once');
  assert.equal(counted('input'), typed.length, 'the record counts every byte to the destination once');
  const file = await readFile(path);
  assert.equal(file.includes(Buffer.from(chunk(1))), false, "the record holds none of the connection's bytes");

  // The log group has the connection once, with the same counts, and audit verify agrees with the record.
  const event = await connectionEvent(running, started.SessionId);
  assert.equal(event['bytesFromDestination'], expected.length);
  assert.equal(event['bytesToDestination'], typed.length);
  const verified = await auditVerify(started.SessionId, { dataDir: running.dataDir, untilMs: 10_000 });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  t.diagnostic(`${kills} kills in ${((Date.now() - began) / 1000).toFixed(1)} s; ${(expected.length / 1048576).toFixed(1)} MiB from the destination and ${typed.length} bytes to it, each once`);
  host.close();
  client.close();
  agent.disconnect();
}

/** The session's one connection event in the log group, once its record is delivered. */
async function connectionEvent(running: ServerProcess, sessionId: string): Promise<Record<string, unknown>> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      const { events } = await running.root.call(logs.GetLogEvents, { logGroupName: 'SessionManagerLogGroup', logStreamName: sessionId, startFromHead: true });
      const connections = events.map((event) => JSON.parse(event.message) as Record<string, unknown>).filter((message) => message['connection'] === CONNECTION);
      if (connections.length > 0) {
        assert.equal(connections.length, 1, 'one event for the connection');
        const [only] = connections;
        if (only !== undefined) return only;
      }
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      // the stream is made when the session's record is delivered
    }
    await sleep(50);
  }
  throw new Error(`no connection event for ${sessionId}`);
}
