/**
 * A client ahead of a crashed server's record (DESIGN §7): the broker passes frames on before
 * the record holding them is on disk, so after a kill -9 the client may have output, and the
 * agent input, that the revived record lacks. Made certain here: the server (a child process)
 * runs with the broker's test-only `recordDelayMs`, so each batch of the record waits 1.5 s
 * before its write; frames cross both ways, the server is killed before that write, and starts
 * again. Both sides resume from where they are: the agent sends its unacknowledged output again,
 * the client its input; each is recorded under its old numbers and not delivered twice. A claim
 * beyond anything that was or will be sent is refused, at once or after a bounded wait.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { data, sessions } from '@airlock/protocol';
import { readRecord, recordPath } from '@airlock/server/sessions/record';
import { auditVerify, joinSession, recordedText, SimulatedAgent, startServerProcess, type ServerProcess } from '@airlock/testkit';
import { WebSocket } from 'ws';

const SLOW_RECORD_SERVER = fileURLToPath(new URL('./slow-record-server.js', import.meta.url));

let server: ServerProcess | undefined;
after(async () => {
  await server?.stop();
});

/** The terminal's text in `direction` in the session's record as it is on disk now. */
const onDisk = async (dataDir: string, sessionId: string, direction: 'input' | 'output'): Promise<string> => recordedText((await readRecord(recordPath(dataDir, sessionId))).entries, direction);

/** A client's data channel claiming to have output up to `lastReceived`: how the server closes it (bounded by `ms`). */
async function claim(url: string, token: string, lastReceived: number, ms: number): Promise<{ ready: boolean; code: number; reason: string }> {
  const socket = new WebSocket(url);
  let ready = false;
  socket.on('message', (message: Buffer) => {
    if (data.decodeFrames(new Uint8Array(message)).some((frame) => frame.type === data.FrameType.Ready)) ready = true;
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const auth: data.AuthMessage = { role: 'client', token, lastReceived, version: data.DATA_PROTOCOL_VERSION };
  socket.send(data.encodeFrame({ type: data.FrameType.Auth, flags: 0, stream: 0, seq: 0, ack: 0, payload: data.jsonPayload(auth) }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`the claim of frame ${lastReceived} was neither taken nor refused within ${ms} ms`));
    }, ms);
    socket.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve({ ready, code, reason: reason.toString('utf8') });
    });
  });
}

test('kill -9 while output and input are past their sides but not on disk: both sides resume, every byte once at each side and in the record', { timeout: 90_000 }, async (t) => {
  const running = await startServerProcess({ main: SLOW_RECORD_SERVER });
  server = running;
  const agent = await SimulatedAgent.register(running);
  await agent.connect(running);
  const started = await running.root.call(sessions.StartSession, { Target: agent.instanceId });
  const session = await joinSession(running, agent, started);
  const { client, host } = session;

  /** Until the record on disk holds `output` and `input` (its batches wait 1.5 s), at most 10 s. */
  const recordCaughtUp = async (output: string, input: string): Promise<void> => {
    const until = Date.now() + 10_000;
    const holds = async (): Promise<boolean> => (await onDisk(running.dataDir, started.SessionId, 'output')) === output && (await onDisk(running.dataDir, started.SessionId, 'input')) === input;
    while (!(await holds())) {
      if (Date.now() > until) throw new Error(`the record did not catch up with ${output.length} bytes of output and ${input.length} of input`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  // Recorded and on disk before the race: the session's start.
  host.sendText('before|');
  await client.waitFor(() => client.text() === 'before|', 'the first output');
  await recordCaughtUp('before|', '');

  // The race: these reach the other side, and the server dies before their batch is written.
  let output = 'before|';
  for (let index = 1; index <= 20; index++) {
    const text = `out-${index}|`;
    host.sendText(text);
    output += text;
  }
  client.sendText('k1|');
  await client.waitFor(() => client.text() === output, 'the output before the kill');
  await host.waitFor(() => host.text() === 'k1|', 'the input before the kill');
  await running.kill();
  assert.equal(await onDisk(running.dataDir, started.SessionId, 'output'), 'before|', 'the record ends before the output the client has (the race happened)');
  assert.equal(await onDisk(running.dataDir, started.SessionId, 'input'), '', 'the record lacks the input the agent has');
  const clientHad = client.link.received;
  const agentHad = host.link.received;

  agent.disconnect();
  await running.start();
  await session.agentBack(running);
  // The client first, while the agent has not sent anything again: it waits, ahead of the record.
  const ready = await session.clientBack(running.root);
  assert.equal(ready.lastReceived, 0, 'the server has none of the input (the client sends k1 again)');
  await session.hostBack();
  t.diagnostic(`the client resumed at output frame ${clientHad}, the agent at input frame ${agentHad}, both ahead of the revived record`);

  host.sendText('after|');
  output += 'after|';
  client.sendText('k2|');
  await client.waitFor(() => client.text() === output, 'the output after the resume');
  await host.waitFor(() => host.text() === 'k1|k2|', 'the input after the resume');
  assert.equal(client.closed, undefined, 'the client stays connected');

  // Again, the agent resuming first now: it is ahead of the input record while the client is away.
  await recordCaughtUp(output, 'k1|k2|');
  host.sendText('late|');
  output += 'late|';
  client.sendText('k3|');
  await client.waitFor(() => client.text() === output, 'the output before the second kill');
  await host.waitFor(() => host.text() === 'k1|k2|k3|', 'the input before the second kill');
  await running.kill();
  assert.equal(await onDisk(running.dataDir, started.SessionId, 'input'), 'k1|k2|', 'the record lacks k3, which the agent has');
  agent.disconnect();
  await running.start();
  await session.agentBack(running);
  await session.hostBack();
  await session.clientBack(running.root);
  host.sendText('last|');
  output += 'last|';
  client.sendText('k4|');
  await client.waitFor(() => client.text() === output, 'the output after the second resume');
  await host.waitFor(() => host.text() === 'k1|k2|k3|k4|', 'the input after the second resume');

  // Claims of output never sent: far beyond anything, refused at once; a little beyond, refused
  // once the agent has been there a while (the server's aheadWaitMs, 3 s) without sending it.
  const absurd = await running.root.call(sessions.ResumeSession, { SessionId: started.SessionId });
  const far = await claim(absurd.StreamUrl, absurd.TokenValue, 100_000_000, 5_000);
  assert.deepEqual([far.ready, far.code], [false, 4400]);
  assert.match(far.reason, /you acknowledged frame 100000000; this session has sent \d+/);
  const near = await running.root.call(sessions.ResumeSession, { SessionId: started.SessionId });
  const beyond = await claim(near.StreamUrl, near.TokenValue, client.link.received + 3, 15_000);
  assert.deepEqual([beyond.ready, beyond.code], [true, 4400]);
  assert.match(beyond.reason, new RegExp(`you acknowledged frame ${client.link.received + 3}; this session has sent ${client.link.received}`));

  await running.root.call(sessions.TerminateSession, { SessionId: started.SessionId });
  // The record's last batch waits its delay; the seal follows.
  const verified = await auditVerify(started.SessionId, { dataDir: running.dataDir, untilMs: 15_000 });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  const read = await readRecord(recordPath(running.dataDir, started.SessionId));
  assert.equal(read.brokenAt, undefined, 'the record chains from end to end');
  assert.equal(recordedText(read.entries, 'output'), output, 'the record holds every output frame once, in order');
  assert.equal(recordedText(read.entries, 'input'), 'k1|k2|k3|k4|', 'the record holds every keystroke once, in order');
  const outSeqs = read.entries.filter((entry) => entry.direction === 'output').map((entry) => entry.outSeq);
  assert.deepEqual(outSeqs, outSeqs.map((_seq, index) => index + 1), "the output's numbers towards the client run 1, 2, 3… with no gap or repeat");
  const inSeqs = read.entries.filter((entry) => entry.direction === 'input').map((entry) => entry.outSeq);
  assert.deepEqual(inSeqs, inSeqs.map((_seq, index) => index + 1), "the input's numbers towards the agent run 1, 2, 3… with no gap or repeat");
  host.close();
  client.close();
  agent.disconnect();
});
