/**
 * `airlock ssm start-session` as a real process against a real server, the agent's part played
 * over a real data channel (session-agent.ts): a command's bytes both ways and its exit status;
 * a TTY (through script(1)) in raw mode with the window size, resize, control keys as bytes and
 * the terminal restored on exit and on SIGTERM; a dropped network resumed with nothing lost or
 * doubled; port forwarding of concurrent connections with half-close and refused ones; and the
 * SSH pipe.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer as createHttpServer, get, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sessions } from '@airlock/protocol';
import { SimulatedAgent, startTestServer, temporaryDirectory, within, type TestServer } from '@airlock/testkit';
import { CutProxy } from './cut-proxy.js';
import { repoFile } from './helpers.js';
import { SessionAgent, sha256 } from './session-agent.js';

const CLI = repoFile('packages/cli/bin/airlock.js');

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stdout: Buffer[];
  stderr: string;
  readonly exited: Promise<number | null>;
}

function watch(child: ChildProcessWithoutNullStreams): Running {
  const running: Running = {
    child,
    stdout: [],
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1)))),
  };
  child.stdout.on('data', (chunk: Buffer) => running.stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (running.stderr += chunk.toString()));
  child.stdin.on('error', () => undefined);
  return running;
}

const stdoutOf = (running: Running): Buffer => Buffer.concat(running.stdout);

async function until(check: () => boolean, what: string | (() => string), ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The pid of the CLI process whose arguments carry `marker` (it runs under script's shell). */
function cliPid(marker: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes(marker) && args.some((arg) => arg.endsWith('airlock.js'))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('airlock ssm start-session', () => {
  let server: TestServer;
  let proxy: CutProxy;
  let agent: SimulatedAgent;
  let config: { path: string; remove: () => Promise<void> };
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // The server hands out StreamUrls through the proxy, so a test can drop the client's connection.
    proxy = await CutProxy.start();
    server = await startTestServer({ flags: { 'public-url': `http://127.0.0.1:${proxy.port}` } });
    proxy.target = Number(new URL(server.url).port);
    agent = await SimulatedAgent.register(server);
    await agent.connect(server);
    config = await temporaryDirectory();
    env = { PATH: process.env['PATH'] ?? '', AIRLOCK_CONFIG_DIR: config.path, AIRLOCK_ENDPOINT_URL: server.url, AIRLOCK_TOKEN: server.rootToken };
  });
  after(async () => {
    agent.disconnect();
    await proxy.close();
    await server.stop();
    await config.remove();
  });

  /** Starts the CLI; the agent's side of its session once it is open. */
  async function start(args: readonly string[]): Promise<{ running: Running; peer: SessionAgent }> {
    const seen = agent.opened.length;
    const running = watch(spawn(process.execPath, [CLI, 'ssm', 'start-session', '--target', agent.instanceId, ...args], { env }));
    const peer = await within(SessionAgent.attach(server, agent, seen), `the session of ${args.join(' ')}`, 10_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; the CLI said: ${running.stderr}`);
    });
    return { running, peer };
  }

  /** Both hops are attached. */
  async function connected(sessionId: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { Sessions } = await server.root.call(sessions.DescribeSessions, { State: 'Active', Filters: [{ key: 'SessionId', value: sessionId }] });
      if (Sessions[0]?.Status === 'Connected') return;
      if (Date.now() > deadline) throw new Error(`${sessionId} is not Connected but ${Sessions[0]?.Status ?? 'gone'}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test('a command: stdin to the agent with a Fin at its end, output to stdout, the exit status as the exit code, AWS lines on stderr', { timeout: 30_000 }, async () => {
    const { running, peer } = await start(['--document-name', 'AWS-StartNonInteractiveCommand', '--parameters', 'command=wc -c']);
    const input = randomBytes(300_000);
    running.child.stdin.end(input);
    await peer.waitFor(() => peer.inputFin, 'the Fin of stdin');
    assert.equal(sha256(peer.inputBytes), sha256(input));
    const output = randomBytes(3 * 1024 * 1024 + 17);
    peer.write(output);
    peer.exit(7);
    assert.equal(await within(running.exited, 'the exit'), 7, running.stderr);
    assert.equal(sha256(stdoutOf(running)), sha256(output));
    assert.match(running.stderr, new RegExp(`^Starting session with SessionId: ${peer.sessionId}\n`));
    assert.match(running.stderr, new RegExp(`\nExiting session with sessionId: ${peer.sessionId}\\.\n$`));
  });

  test("a shell's input from a pipe ends as a person ends it: Enter for an open last line, then Ctrl-D whenever the output is quiet", { timeout: 30_000 }, async () => {
    const typedTwice = (line: string): RegExp => new RegExp(`^${line}\u0004\u0004+$`);
    for (const [input, expected] of [
      ['uptime\n', typedTwice('uptime\n')],
      ['uptime', typedTwice('uptime\r')],
    ] as const) {
      const { running, peer } = await start([]);
      running.child.stdin.end(input);
      // Typed again: the first may have gone to a command still running.
      await peer.waitFor(() => expected.test(Buffer.from(peer.inputBytes).toString('utf8')), `the input ${String(expected)}`);
      peer.exit(0);
      assert.equal(await within(running.exited, 'the exit'), 0, running.stderr);
    }
  });

  test('a session ended by the server (TerminateSession elsewhere) prints its reason and exits 255', { timeout: 30_000 }, async () => {
    const { running, peer } = await start(['--document-name', 'AWS-StartNonInteractiveCommand', '--parameters', '{"command":["sleep 100"]}']);
    await connected(peer.sessionId);
    await server.root.call(sessions.TerminateSession, { SessionId: peer.sessionId });
    assert.equal(await within(running.exited, 'the exit'), 255);
    assert.match(running.stderr, /The session ended: terminated by root/);
  });

  test('a dropped network is resumed with ResumeSession: both directions arrive whole, once, in order', { timeout: 120_000 }, async () => {
    const { running, peer } = await start(['--document-name', 'AWS-StartNonInteractiveCommand', '--parameters', 'command=cat']);
    const output = randomBytes(4 * 1024 * 1024);
    const input = randomBytes(1024 * 1024);
    peer.write(output);
    // stdin in pieces while the connection is cut three times.
    let written = 0;
    const feeder = setInterval(() => {
      if (written >= input.length) return;
      running.child.stdin.write(input.subarray(written, written + 64 * 1024));
      written += 64 * 1024;
      if (written >= input.length) running.child.stdin.end();
    }, 5);
    try {
      const resumes = (): number => running.stderr.match(/The session resumed\./g)?.length ?? 0;
      for (const [cuts, share] of [0.2, 0.45, 0.7].entries()) {
        // Resumed from the last cut, and the output well under way.
        await until(() => stdoutOf(running).length >= output.length * share && resumes() === cuts && proxy.open > 0, `${share * 100}% of the output`, 30_000);
        proxy.cut();
      }
      await peer.waitFor(() => peer.inputFin, 'the Fin of stdin', 30_000);
      // The program exits once the client is back and has had everything.
      await until(() => stdoutOf(running).length === output.length && resumes() === 3, 'all the output, and the client back', 45_000);
      peer.exit(0);
      assert.equal(await within(running.exited, 'the exit', 15_000), 0, running.stderr);
    } finally {
      clearInterval(feeder);
    }
    assert.equal(stdoutOf(running).length, output.length);
    assert.equal(sha256(stdoutOf(running)), sha256(output));
    assert.equal(sha256(peer.inputBytes), sha256(input));
    assert.equal(running.stderr.match(/The connection dropped/g)?.length, 3, running.stderr);
    assert.equal(running.stderr.match(/The session resumed\./g)?.length, 3, running.stderr);
  });

  describe('port forwarding', () => {
    let http: HttpServer;
    let httpPort: number;
    const body = (n: number): Buffer => Buffer.alloc(100_000 + n * 997, `response ${n};`);

    before(async () => {
      http = createHttpServer((request, response) => {
        const n = Number(request.url?.slice(1));
        response.end(body(n));
      });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      httpPort = (http.address() as AddressInfo).port;
    });
    after(() => {
      http.closeAllConnections();
      http.close();
    });

    test('20 concurrent connections to an HTTP server, one half-closed; refused ones end alone; Ctrl-C terminates the session and exits 0', { timeout: 60_000 }, async () => {
      const { running, peer } = await start(['--document-name', 'AWS-StartPortForwardingSession', '--parameters', `portNumber=${httpPort},localPortNumber=0`]);
      peer.relay = { host: '127.0.0.1', port: httpPort, refuse: (id) => id === 3 || id === 12 };
      await until(() => /Waiting for connections\.\.\./.test(running.stderr), 'the listener');
      const port = Number(/Port (\d+) opened for sessionId /.exec(running.stderr)?.[1]);
      assert.ok(port > 0, running.stderr);

      const fetchOne = (n: number): Promise<Buffer | Error> =>
        new Promise((resolve) => {
          const request = get({ host: '127.0.0.1', port, path: `/${n}`, agent: false }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve(Buffer.concat(chunks)));
            response.on('error', resolve);
          });
          request.on('error', resolve);
        });
      const results = await Promise.all(Array.from({ length: 22 }, (_, n) => fetchOne(n)));
      const good = results.filter((result, n) => Buffer.isBuffer(result) && result.equals(body(n)));
      const failed = results.filter((result) => result instanceof Error);
      assert.equal(good.length, 20, `20 responses whole (${failed.map(String).join(', ')})`);
      assert.equal(failed.length, 2);

      // Half-close: the request, then our Fin; the whole response still comes back, then the end.
      const response = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
          socket.end('GET /5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(response, /^HTTP\/1\.1 200 OK/);
      assert.ok(response.endsWith(body(5).toString('latin1')), 'the whole body after our half-close');

      running.child.kill('SIGINT');
      assert.equal(await within(running.exited, 'the exit'), 0, running.stderr);
      assert.match(running.stderr, /Exiting session with sessionId: /);
      const { Sessions } = await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'SessionId', value: peer.sessionId }] });
      assert.equal(Sessions[0]?.Status, 'Terminated');
    });
  });

  test('a local port already taken: the session is terminated, the reason printed, exit 255', { timeout: 30_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { running, peer } = await start(['--document-name', 'AWS-StartPortForwardingSession', '--parameters', `portNumber=80,localPortNumber=${port}`]);
      assert.equal(await within(running.exited, 'the exit'), 255);
      assert.match(running.stderr, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
      const { Sessions } = await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'SessionId', value: peer.sessionId }] });
      assert.equal(Sessions[0]?.Status, 'Terminated');
    } finally {
      taken.close();
    }
  });

  describe('the SSH pipe', () => {
    let echo: Server;
    let echoPort: number;

    before(async () => {
      // Echoes everything back, and closes after the client's end, as an SSH server ends.
      echo = createServer({ allowHalfOpen: true }, (socket) => {
        socket.pipe(socket);
      });
      await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
      echoPort = (echo.address() as AddressInfo).port;
    });
    after(() => {
      echo.close();
    });

    test('stdin and stdout are one forwarded stream, raw; nothing else on stdout; the end of the connection ends the session', { timeout: 30_000 }, async () => {
      const { running, peer } = await start(['--document-name', 'AWS-StartSSHSession', '--parameters', `portNumber=${echoPort}`]);
      peer.relay = { host: '127.0.0.1', port: echoPort };
      const input = randomBytes(2 * 1024 * 1024 + 5);
      running.child.stdin.end(input);
      assert.equal(await within(running.exited, 'the exit', 20_000), 0, running.stderr);
      assert.equal(sha256(stdoutOf(running)), sha256(input));
      assert.equal(running.stderr, '');
      const { Sessions } = await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'SessionId', value: peer.sessionId }] });
      assert.equal(Sessions[0]?.Status, 'Terminated');
    });
  });

  describe('a terminal (a PTY through script)', () => {

    /** The CLI under script(1), with a 100×30 terminal; `stty -a` after it, so the test sees the terminal it left. */
    function inTerminal(marker: string): Promise<{ running: Running; peer: SessionAgent }> {
      const seen = agent.opened.length;
      const command = `stty cols 100 rows 30; ${process.execPath} ${CLI} ssm start-session --target ${agent.instanceId} --reason ${marker}; code=$?; echo; echo "STTY: $(stty -a | tr '\\n' ' ')"; exit $code`;
      const running = watch(spawn('script', ['-qfec', command, '/dev/null'], { env: { ...env, SHELL: '/bin/sh', TERM: 'xterm' } }));
      return within(SessionAgent.attach(server, agent, seen), 'the session', 10_000)
        .then((peer) => ({ running, peer }))
        .catch((error: unknown) => {
          throw new Error(`${String(error)}; the terminal showed: ${stdoutOf(running).toString()}`);
        });
    }

    function cookedAgain(running: Running): void {
      const stty = /STTY: (.*)/.exec(stdoutOf(running).toString())?.[1] ?? '';
      assert.match(stty, /(^|\s)icanon(\s|;|$)/, `canonical mode again: ${stty}`);
      assert.match(stty, /(^|\s)echo(\s|;|$)/, `echo again: ${stty}`);
      assert.match(stty, /(^|\s)isig(\s|;|$)/, `signals again: ${stty}`);
      assert.match(stty, /(^|\s)opost(\s|;|$)/, `output processing again: ${stty}`);
    }

    test('raw mode: the window size, a resize, Ctrl-C/Z/D as bytes, output, the exit status; the terminal restored', { timeout: 30_000 }, async () => {
      const marker = `tty-${randomBytes(4).toString('hex')}`;
      const { running, peer } = await inTerminal(marker);
      await peer.waitFor(() => peer.resizes.length > 0, 'the window size');
      assert.deepEqual(peer.resizes[0], { cols: 100, rows: 30 });
      running.child.stdin.write('ls\r\x03\x1a\x04');
      await peer.waitFor(() => peer.inputText === 'ls\r\x03\x1a\x04', 'the keys as bytes');

      const pid = cliPid(marker);
      assert.ok(pid !== undefined, 'the CLI process');
      const tty = readlinkSync(`/proc/${pid}/fd/0`);
      assert.match(tty, /^\/dev\/pts\//);
      spawnSync('stty', ['-F', tty, 'cols', '120', 'rows', '50']);
      await peer.waitFor(() => peer.resizes.some((size) => size.cols === 120 && size.rows === 50), 'the new size');

      peer.write('total 0\r\n$ ');
      await until(() => stdoutOf(running).toString().includes('total 0\r\n$ '), () => `the output on the terminal: ${JSON.stringify(stdoutOf(running).toString())}`);
      peer.exit(3);
      assert.equal(await within(running.exited, 'the exit'), 3, stdoutOf(running).toString());
      assert.match(stdoutOf(running).toString(), /Exiting session with sessionId: /);
      cookedAgain(running);
    });

    test('SIGTERM restores the terminal, terminates the session and exits 143', { timeout: 30_000 }, async () => {
      const marker = `term-${randomBytes(4).toString('hex')}`;
      const { running, peer } = await inTerminal(marker);
      await peer.waitFor(() => peer.resizes.length > 0, 'the window size');
      const pid = cliPid(marker);
      assert.ok(pid !== undefined, 'the CLI process');
      process.kill(pid, 'SIGTERM');
      assert.equal(await within(running.exited, 'the exit'), 143, stdoutOf(running).toString());
      cookedAgain(running);
      const { Sessions } = await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'SessionId', value: peer.sessionId }] });
      assert.equal(Sessions[0]?.Status, 'Terminated');
    });
  });
});
