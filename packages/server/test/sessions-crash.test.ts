/**
 * Lossless recording under crashes (DESIGN §7): a real server in its own process is killed with
 * SIGKILL at random moments while the agent's side pours out output and the client types; each
 * time it starts again on the same data, the agent and client reconnect and resume. At the end
 * the client has every byte the agent sent, once and in order, the agent every keystroke, and
 * the session's record holds exactly that: zero bytes missing, zero doubled. The session streams
 * to a log group as it runs, and that copy holds the same (audit verify --session).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, test, type TestContext } from 'node:test';
import { documents, sessions } from '@airlock/protocol';
import { readRecord, recordPath } from '@airlock/server/sessions/record';
import { auditVerify, joinSession, recordedText, sessionPreferences, SimulatedAgent, startServerProcess, type ServerProcess } from '@airlock/testkit';

const KILLS = 6;
/** The loop stops killing after this long, whatever KILLS says: the test stays well under a minute. */
const BUDGET_MS = 25_000;
const CHUNK = 4_000;

/** Chunk i: its number, then filler that differs from one chunk to the next (a doubled or lost chunk shows). */
const chunk = (index: number): string => `<${index}>`.padEnd(CHUNK, String.fromCharCode(97 + (index % 26)));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const PREFERENCES = sessionPreferences({ s3BucketName: '', s3EncryptionEnabled: false, cloudWatchLogGroupName: 'SessionManagerLogGroup', cloudWatchStreamingEnabled: true });

let server: ServerProcess | undefined;
after(async () => {
  await server?.stop();
});

test('kill -9 of the server at random moments during heavy output: after each restart and resume, nothing missing or doubled, in the client or the record', { timeout: 90_000 }, async (t) => {
  await crashLoop(t).catch((error: unknown) => {
    // What the server said, for whoever reads the failure.
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
  // Streamed to a log group as it runs, so the crashes fall in the middle of that too.
  await running.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: PREFERENCES, DocumentType: 'Session' });
  const started = await running.root.call(sessions.StartSession, { Target: agent.instanceId });
  const session = await joinSession(running, agent, started);
  const { client, host } = session;

  // The agent's side writes about 4 MB/s, as far as its window lets it, whether or not the server
  // is there (what it sends meanwhile waits in its link and goes again after the reconnect).
  let sent = 0;
  let pouring = true;
  const pour = (): void => {
    if (!pouring) return;
    for (let burst = 0; burst < 2 && !host.link.full; burst++) host.sendText(chunk(sent++));
    // unref: a failed test leaves nothing running.
    setTimeout(pour, 2).unref();
  };
  pour();

  const received = client.byteCounter();
  let typed = '';
  let kills = 0;
  for (; kills < KILLS && Date.now() - began < BUDGET_MS; kills++) {
    const key = `k${kills} `;
    client.sendText(key);
    typed += key;
    const receivedBefore = received();
    // Output flows for a random while, then the server dies mid-stream.
    await client.waitFor(() => received() > receivedBefore, `output before kill ${kills + 1} (sent ${sent} chunks, received ${receivedBefore} bytes)`, 15_000);
    await sleep(randomInt(20, 400));
    await running.kill();
    agent.disconnect();
    await running.start();

    await session.agentBack(running);
    await session.hostBack();
    await session.clientBack(running.root);
  }
  pouring = false;
  client.sendText('end');
  typed += 'end';
  assert.ok(kills >= 3, `only ${kills} kills fit in the time budget`);

  const expected = Array.from({ length: sent }, (_unused, index) => chunk(index)).join('');
  await client.waitFor(() => received() >= expected.length, `all ${sent} chunks at the client`, 20_000);
  assert.equal(client.text().length, expected.length, 'nothing doubled at the client');
  assert.ok(client.text() === expected, 'the client has every chunk once, in order');
  await host.waitFor(() => host.text() === typed, 'every keystroke at the agent');

  await running.root.call(sessions.TerminateSession, { SessionId: started.SessionId });
  // The client may have the last chunk before its batch of the record is on disk (forwarding does
  // not wait for the write, only the acknowledgement does), and TerminateSession does not wait
  // for that write either: read once the record has caught up, for at most 5 s.
  let record = await readRecord(recordPath(running.dataDir, started.SessionId));
  for (let attempt = 0; attempt < 50 && recordedText(record.entries, 'output').length < expected.length; attempt++) {
    await sleep(100);
    record = await readRecord(recordPath(running.dataDir, started.SessionId));
  }
  assert.equal(record.brokenAt, undefined, 'the record chains from end to end');
  const output = recordedText(record.entries, 'output');
  assert.equal(output.length, expected.length, `the record holds ${output.length} bytes of output where the client received ${expected.length}`);
  assert.ok(output === expected, 'the record holds every output chunk once, in order');
  assert.equal(recordedText(record.entries, 'input'), typed);

  // The copy in the log group holds the same as the record, each event once, in order: audit verify --session says so.
  // The end's delivery is the server's to finish: a few seconds at most.
  const verified = await auditVerify(started.SessionId, { dataDir: running.dataDir, untilMs: 10_000 });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /^verified session .*; [1-9]\d* log events match/);
  t.diagnostic(`${kills} kills in ${((Date.now() - began) / 1000).toFixed(1)} s; ${(expected.length / 1048576).toFixed(1)} MiB of output and ${typed.length} keystrokes, each once in the client, the agent and the record`);
  host.close();
  client.close();
  agent.disconnect();
}
