/**
 * Sessions end to end with the real server (@airlock/testkit): the agent registered with an
 * activation, its control channel and session runner in this process; ssm:StartSession by the
 * root client; the client's side of the data channel played by the testkit's DataPeer. A shell
 * as the default user, its exit ending the session; a non-interactive command's exit status;
 * 100 MB of output arriving whole (checksum); Run As from the account's preferences.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { SessionManager } from '@airlock/agent';
import { data } from '@airlock/protocol';
import { DataPeer, sessionPreferences, startTestServer, type TestServer } from '@airlock/testkit';
import { startRealAgent, type RealAgent } from '@airlock/testkit/real-agent';
import { capturedLogger, sleep, temporaryDirectory, waitFor } from './helpers.js';

const canMakeUsers = process.getuid?.() === 0 && ((): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v useradd && command -v setpriv'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const TEST_SSM_USER = `airlock-e${randomBytes(3).toString('hex')}`;
/** An OS user made for the Run As test, and one that does not exist. */
const TEST_RUN_AS = `airlock-r${randomBytes(3).toString('hex')}`;
const MISSING_USER = `airlock-n${randomBytes(3).toString('hex')}`;
const RUN_SHELL = 'SSM-SessionManagerRunShell';

interface Started {
  readonly SessionId: string;
  readonly TokenValue: string;
  readonly StreamUrl: string;
}

describe('sessions with the real server', () => {
  let server: TestServer;
  let agent: RealAgent | undefined;
  let sessions: SessionManager;
  let instanceId = '';
  let cleanup: () => Promise<void> = () => Promise.resolve();
  const log = capturedLogger();

  before(async () => {
    server = await startTestServer();
    const dir = await temporaryDirectory();
    const sudoers = await temporaryDirectory();
    agent = await startRealAgent(server, { stateDir: dir.path, ssmUser: TEST_SSM_USER, sudoersFile: `${sudoers.path}/ssm-agent-users`, log });
    ({ instanceId, sessions } = agent);
    cleanup = async () => {
      await dir.remove();
      await sudoers.remove();
    };
  });

  after(async () => {
    await agent?.stop();
    await server.stop();
    await cleanup();
    if (canMakeUsers) {
      for (const user of [TEST_SSM_USER, TEST_RUN_AS]) {
        try {
          execFileSync('userdel', ['-r', user], { stdio: 'ignore' });
        } catch {
          // Not made.
        }
      }
    }
  });

  async function start(input: Record<string, unknown>, autoAck = true): Promise<{ started: Started; client: DataPeer }> {
    const started = (await server.root.callByName('ssm', 'StartSession', { Target: instanceId, ...input })) as Started;
    const client = new DataPeer({ autoAck });
    await client.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
    return { started, client };
  }

  async function history(sessionId: string): Promise<{ Status: string; Details?: string }> {
    const output = (await server.root.callByName('ssm', 'DescribeSessions', { State: 'History', Filters: [{ key: 'SessionId', value: sessionId }] })) as { Sessions: { Status: string; Details?: string }[] };
    const [found] = output.Sessions;
    return found ?? { Status: 'not in History' };
  }

  test('a shell: keystrokes in, output out, its exit ends the session', { timeout: 40_000 }, async () => {
    const { started, client } = await start({});
    // Typed once the shell is up (its prompt), as a person would.
    await client.waitFor(() => client.text().length > 0, `the prompt (the agent said: ${log.text()})`, 15_000);
    client.sendText('echo "me=$(id -un)"; exit 4\r');
    const user = canMakeUsers ? TEST_SSM_USER : execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    await client.waitFor(() => client.text().includes(`me=${user}`), `the output (so far ${JSON.stringify(client.text())}; the agent said: ${log.text()})`, 10_000);
    await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Exit), 'the Exit frame', 10_000);
    const exit = client.frames.find((frame) => frame.type === data.FrameType.Exit);
    assert.deepEqual(data.readExit(exit?.payload ?? new Uint8Array(4)), { status: 4, reason: '' });
    await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.End), 'End');
    await waitFor(() => sessions.size === 0, 'the agent to end the session');
    const record = await history(started.SessionId);
    assert.equal(record.Status, 'Terminated');
  });

  test("the agent's data channel dropped mid-output: resumed through the server, nothing lost or doubled", { timeout: 30_000 }, async () => {
    // The client reads slowly (acknowledges by hand), so the program is still writing at each drop.
    const { started, client } = await start({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: ['seq 1 1000000'] } }, false);
    const length = (): number => client.frames.reduce((sum, frame) => sum + (frame.type === data.FrameType.Data ? frame.payload.length : 0), 0);
    for (let drop = 0; drop < 2; drop++) {
      const seen = length();
      await client.waitFor(() => length() > seen + 500_000, 'more output', 10_000);
      // The output just read may have waited in the server while the agent was still redialing after the last drop.
      await waitFor(() => sessions.get(started.SessionId)?.link?.ready === true, 'the data channel back', 10_000);
      const session = sessions.get(started.SessionId);
      assert.ok(session?.link?.ready === true, 'the program still runs');
      session.link.drop();
      client.consume();
    }
    const reader = setInterval(() => {
      client.consume();
    }, 5);
    try {
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Exit), 'the Exit frame', 20_000);
    } finally {
      clearInterval(reader);
    }
    const expected = Array.from({ length: 1_000_000 }, (_, i) => `${i + 1}\n`).join('');
    assert.equal(client.text().length, expected.length);
    assert.ok(client.text() === expected, 'the output, exactly once and in order');
    assert.match(log.text(), new RegExp(`Session ${started.SessionId}: data channel resumed`));
  });

  test('port forwarding through the server: Open, Ok, bytes both ways, a half-close answered', { timeout: 20_000 }, async () => {
    const echo = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('end', () => socket.end('bye'));
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const port = (echo.address() as AddressInfo).port;
      const { client } = await start({ DocumentName: 'AWS-StartPortForwardingSessionToRemoteHost', Parameters: { host: ['127.0.0.1'], portNumber: [String(port)], localPortNumber: ['0'] } });
      client.send({ type: data.FrameType.Open, stream: 1 });
      client.sendText('ping', 1);
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Open && frame.stream === 1 && frame.flags === data.FrameFlag.Ok), 'Open Ok');
      await client.waitFor(() => client.text(1) === 'ping', 'the echo');
      client.send({ type: data.FrameType.Close, flags: data.FrameFlag.Fin, stream: 1 });
      await client.waitFor(() => client.text(1) === 'pingbye', 'the answer to the half-close');
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Close && frame.stream === 1 && frame.flags === data.FrameFlag.Fin), 'the Fin back');
    } finally {
      echo.close();
    }
  });

  test('AWS-StartNonInteractiveCommand: output and the exit status', { timeout: 20_000 }, async () => {
    const { client } = await start({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: ['echo one; echo two >&2; exit 9'] } });
    await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Exit), 'the Exit frame', 10_000);
    assert.match(client.text(), /one\n/);
    assert.match(client.text(), /two\n/);
    const exit = client.frames.find((frame) => frame.type === data.FrameType.Exit);
    assert.equal(data.readExit(exit?.payload ?? new Uint8Array(4)).status, 9);
  });

  test('100 MB of output through the server and the agent arrive whole, in order (SHA-256)', { timeout: 180_000 }, async () => {
    // Non-interactive (pipes): the bytes are the program's own, with no terminal translating them.
    const lines = 12_500_000;
    const { started, client } = await start({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: [`seq 1 ${lines}`] } });
    await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Exit), 'the Exit frame', 170_000);
    const received = createHash('sha256');
    let bytes = 0;
    for (const frame of client.frames) {
      if (frame.type !== data.FrameType.Data || frame.stream !== 0) continue;
      received.update(frame.payload);
      bytes += frame.payload.length;
    }
    const expected = createHash('sha256');
    let expectedBytes = 0;
    for (let start = 1; start <= lines; start += 100_000) {
      const chunk = Array.from({ length: Math.min(100_000, lines - start + 1) }, (_, i) => `${start + i}\n`).join('');
      expected.update(chunk);
      expectedBytes += chunk.length;
    }
    assert.ok(expectedBytes > 100_000_000, `the test moves ${expectedBytes} bytes`);
    assert.equal(bytes, expectedBytes);
    assert.equal(received.digest('hex'), expected.digest('hex'));
    assert.equal(data.readExit(client.frames.find((frame) => frame.type === data.FrameType.Exit)?.payload ?? new Uint8Array(4)).status, 0);
    assert.equal((await history(started.SessionId)).Status, 'Terminated');
  });

  test("Run As (runAsEnabled, runAsDefaultUser): the program runs as that OS user; a missing user fails the session with the reason; root is refused", { timeout: 60_000 }, async () => {
    assert.ok(canMakeUsers, 'this test needs root, useradd and setpriv (CI runs it as root)');
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', TEST_RUN_AS]);
    try {
      await server.root.callByName('ssm', 'UpdateDocument', { Name: RUN_SHELL, Content: sessionPreferences({ runAsEnabled: true, runAsDefaultUser: TEST_RUN_AS }) });
      const { started, client } = await start({ DocumentName: 'AWS-StartNonInteractiveCommand', Parameters: { command: ['echo "$(id -un) $HOME"'] } });
      await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.Exit), `the Exit frame (the agent said: ${log.text()})`, 15_000);
      assert.equal(client.text(), `${TEST_RUN_AS} /home/${TEST_RUN_AS}\n`);
      assert.equal((await history(started.SessionId)).Status, 'Terminated');

      // A login shell too, on a PTY.
      const shell = await start({});
      await shell.client.waitFor(() => shell.client.text().length > 0, 'the prompt', 15_000);
      shell.client.sendText('echo "me=$(id -un)"; exit\r');
      await shell.client.waitFor(() => shell.client.text().includes(`me=${TEST_RUN_AS}`), `the shell's user (so far ${JSON.stringify(shell.client.text())})`, 10_000);

      await server.root.callByName('ssm', 'UpdateDocument', { Name: RUN_SHELL, Content: sessionPreferences({ runAsEnabled: true, runAsDefaultUser: MISSING_USER }) });
      // The agent fails it at once, maybe before a client could join: its history says why.
      const missing = (await server.root.callByName('ssm', 'StartSession', { Target: instanceId })) as Started;
      let failed = await history(missing.SessionId);
      for (let tries = 0; failed.Status !== 'Failed' && tries < 200; tries++) {
        await sleep(50);
        failed = await history(missing.SessionId);
      }
      assert.equal(failed.Status, 'Failed');
      assert.match(failed.Details ?? '', new RegExp(MISSING_USER), `the reason names the user: ${failed.Details ?? ''}`);

      await assert.rejects(
        server.root.callByName('ssm', 'UpdateDocument', { Name: RUN_SHELL, Content: sessionPreferences({ runAsEnabled: true, runAsDefaultUser: 'root' }) }),
        (error: unknown) => error instanceof Error && /root/.test(error.message),
      );
    } finally {
      await server.root.callByName('ssm', 'DeleteDocument', { Name: RUN_SHELL });
    }
  });
});
