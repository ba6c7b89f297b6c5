/**
 * The agent's side of sessions, against a small data-channel server (data-hub.ts) over real
 * WebSockets, with real PTYs (node-pty), real processes and real TCP: the shell and its user,
 * resize, Unicode cut between frames, a command's exit status, port forwarding with half-close
 * and a refused connection, Run As, a dropped data channel resumed without loss or duplicates
 * (and told again that the terminal hides its input), and the process tree killed when the
 * session ends.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { lookupUser, resolveRunAs, SessionManager, type Account, type Session, type SessionManagerOptions } from '@airlock/agent';
import { data, streams, type control } from '@airlock/protocol';
import { DataHub, type HubSession } from './data-hub.js';
import { capturedLogger, sleep, temporaryDirectory, waitFor } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const hasUseradd = ((): boolean => {
  try {
    execFileSync('sh', ['-c', 'command -v useradd && command -v userdel && command -v setpriv'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const canMakeUsers = isRoot && hasUseradd;
/** Users these tests make (and remove): never the real ssm-user. */
const TEST_SSM_USER = `airlock-t${randomBytes(3).toString('hex')}`;
const TEST_RUN_AS = `airlock-r${randomBytes(3).toString('hex')}`;
const self = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const INSTANCE = 'mi-0123456789abcdef0';

let hub: DataHub;
let sudoers: { path: string; remove: () => Promise<void> };
const failures: { sessionId: string; reason: string }[] = [];
const log = capturedLogger();
let options: SessionManagerOptions;
let manager: SessionManager;
let counter = 0;

before(async () => {
  hub = await DataHub.start();
  sudoers = await temporaryDirectory();
  options = {
    endpointUrl: hub.url,
    instanceId: INSTANCE,
    privateKey,
    agentVersion: 'test',
    log,
    report: (message) => failures.push({ sessionId: message.sessionId, reason: message.reason }),
    users: { ssmUser: TEST_SSM_USER, sudoersFile: `${sudoers.path}/ssm-agent-users` },
    environment: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    killGraceMs: 300,
    link: { backoffBaseMs: 10, backoffCapMs: 50, random: () => 0.5, readyTimeoutMs: 3_000, resumeTimeoutMs: 10_000 },
  };
  manager = new SessionManager(options);
});

after(async () => {
  await manager.stopAll();
  await hub.stop();
  await sudoers.remove();
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

/** Opens a session as the server would: the hub expects it, the agent (`on`) gets session-open. */
function open(work: control.SessionWork, on = manager): { hub: HubSession; session: Session; id: string } {
  const id = `tester-${(++counter).toString(16).padStart(17, '0')}`;
  const nonce = randomBytes(32).toString('base64');
  const expected = hub.expect(id, INSTANCE, nonce, publicKey);
  const session = on.open({ type: 'session-open', sessionId: id, nonce, work });
  assert.ok(session !== undefined);
  return { hub: expected, session, id };
}

const shell = (profile = ''): control.SessionWork => ({ kind: 'shell', runAs: { user: 'ssm-user' }, profile });
const command = (text: string): control.SessionWork => ({ kind: 'command', runAs: { user: 'ssm-user' }, command: text });
const onPty = (text: string): control.SessionWork => ({ kind: 'interactive-command', runAs: { user: 'ssm-user' }, command: text });

function alive(pid: number): boolean {
  try {
    const text = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return !/\) [ZX] /.test(text);
  } catch {
    return false;
  }
}

describe('sessions on a PTY', () => {
  test('a login shell as the default user (made on first use, with its sudoers file), the profile typed first, an echo round trip', { timeout: 20_000 }, async () => {
    const { hub: peer, session } = open(shell('export AIRLOCK_PROFILE=typed-first'));
    await waitFor(() => peer.connections === 1, 'the agent to dial the data channel');
    peer.input('echo "user=$(id -un) home=$HOME/$USER/$LOGNAME term=$TERM lang=$LANG profile=$AIRLOCK_PROFILE pwd=$(pwd)"\r');
    const user = canMakeUsers ? TEST_SSM_USER : self;
    const account = session.account;
    assert.ok(account !== undefined);
    await peer.waitForText(`user=${user} home=${account.home}/${user}/${user} term=xterm-256color lang=C.UTF-8 profile=typed-first pwd=${account.home}`);
    if (canMakeUsers) {
      const file = `${sudoers.path}/ssm-agent-users`;
      assert.equal(await readFile(file, 'utf8'), `${TEST_SSM_USER} ALL=(ALL) NOPASSWD:ALL\n`);
      assert.equal((await stat(file)).mode & 0o777, 0o440);
      // Not root, and none of the agent's groups (setpriv --init-groups: the user's own).
      peer.input('echo "groups=$(id -G)"\r');
      await peer.waitForText(/groups=\d+/);
      assert.doesNotMatch(peer.text().match(/groups=[\d ]+/)?.[0] ?? '', /\b0\b/);
      assert.match(log.text(), new RegExp(`Created the user ${TEST_SSM_USER}`));
    }
    peer.input('exit 3\r');
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    assert.deepEqual(peer.exit, { status: 3, reason: '' });
    peer.end('the program exited with status 3');
    assert.equal(await session.done, 'the program exited with status 3');
  });

  test('the sudoers file is written only when the agent creates the user', { timeout: 20_000 }, async () => {
    const { rm } = await import('node:fs/promises');
    await rm(`${sudoers.path}/ssm-agent-users`, { force: true });
    const { hub: peer, session } = open(command('id -un'));
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    assert.equal(peer.text().trim(), TEST_SSM_USER);
    await assert.rejects(stat(`${sudoers.path}/ssm-agent-users`), /ENOENT/);
    peer.end('done');
    await session.done;
  });

  test('resize: stty size reflects the Resize frame', { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(shell());
    await waitFor(() => peer.connections === 1, 'the data channel');
    peer.input('stty size\r');
    await peer.waitForText(/\b24 80\r\n/);
    peer.resize(132, 43);
    peer.input('stty size\r');
    await peer.waitForText(/\b43 132\r\n/);
    peer.end('done');
    await session.done;
  });

  test('Unicode cut between frames comes through whole, both ways', { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(onPty("stty -echo; IFS= read -r line; printf 'got:%s\\n' \"$line\"; printf '\\342\\202'; sleep 0.2; printf '\\254 end\\n'"));
    await waitFor(() => peer.connections === 1, 'the data channel');
    await sleep(200);
    const bytes = data.utf8('é€😀 ok\r');
    // One frame per byte: every multi-byte character is cut.
    for (let i = 0; i < bytes.length; i++) peer.input(bytes.subarray(i, i + 1));
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    const text = peer.text();
    assert.match(text, /got:é€😀 ok/);
    assert.match(text, /€ end/);
    assert.ok(!text.includes('\uFFFD'), 'no broken character');
    const dataFrames = peer.frames.filter((frame) => frame.type === data.FrameType.Data);
    assert.ok(dataFrames.length >= 2, 'the € came in two frames');
    peer.end('done');
    await session.done;
  });
});

describe('commands without a PTY', () => {
  test('stdout and stderr as output, then Exit with the status', { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(command('echo out; echo err >&2; exit 7'));
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    assert.deepEqual(peer.exit, { status: 7, reason: '' });
    assert.match(peer.text(), /out\n/);
    assert.match(peer.text(), /err\n/);
    const last = peer.frames.at(-1);
    assert.equal(last?.type, data.FrameType.Exit, 'Exit comes after all the output');
    peer.end('the program exited with status 7');
    await session.done;
  });

  test("a Fin on stream 0 ends the command's input", { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(command('wc -c; echo done'));
    await waitFor(() => peer.connections === 1, 'the data channel');
    peer.input('12345');
    peer.send(streams.finFrame(0));
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    assert.equal(peer.text().replace(/\s+/g, ' ').trim(), '5 done');
    peer.end('done');
    await session.done;
  });

  test('a command killed by a signal: status 128+n and the reason', { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(command('kill -9 $$'));
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    assert.deepEqual(peer.exit, { status: 137, reason: 'the program was killed by SIGKILL' });
    peer.end('done');
    await session.done;
  });
});

describe('Run As', () => {
  test('a missing user fails the session with a clear reason, and nothing is dialed', { timeout: 10_000 }, async () => {
    const { hub: peer, session, id } = open({ kind: 'shell', runAs: { user: 'no-such-user-x', named: true }, profile: '' });
    const reason = await session.done;
    const expected = isRoot ? 'Run As user "no-such-user-x" does not exist on this instance' : `This agent runs as "${self}", not as root`;
    assert.ok(reason.startsWith(expected), reason);
    assert.deepEqual(
      failures.filter((failure) => failure.sessionId === id).map((failure) => failure.reason.slice(0, expected.length)),
      [expected],
    );
    assert.equal(peer.connections, 0);
  });

  test('a named user: its uid, groups, home and environment', { timeout: 15_000 }, async () => {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', '-G', 'users', TEST_RUN_AS]);
    const { hub: peer, session } = open({ kind: 'command', runAs: { user: TEST_RUN_AS, named: true }, command: 'echo "$(id -un) $(id -Gn) $HOME $USER $LOGNAME $SHELL $(pwd)"' });
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    const home = execFileSync('sh', ['-c', `getent passwd ${TEST_RUN_AS} | cut -d: -f6`], { encoding: 'utf8' }).trim();
    assert.equal(peer.text().trim(), `${TEST_RUN_AS} ${TEST_RUN_AS} users ${home} ${TEST_RUN_AS} ${TEST_RUN_AS} /bin/sh ${home}`);
    peer.end('done');
    await session.done;
  });

  test('root is refused; a non-root agent runs only as itself, and says so', async () => {
    await assert.rejects(resolveRunAs({ user: 'root', named: true }), /Run As root is not allowed/);
    const alice: Account = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/bash' };
    await assert.rejects(
      resolveRunAs({ user: 'bob', named: true }, {}, alice),
      /This agent runs as "alice", not as root, so it can run sessions only as "alice", not as Run As user "bob"/,
    );
    assert.deepEqual(await resolveRunAs({ user: 'ssm-user' }, {}, alice), { account: alice, switchUser: false });
    assert.deepEqual(await resolveRunAs({ user: 'alice', named: true }, {}, alice), { account: alice, switchUser: false });
  });

  test('an account is looked up as getent shows it (read from /etc/passwd, no program run); a missing one is undefined', async () => {
    for (const name of ['root', 'nobody']) {
      const [, , uid, gid, , home, shell] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
      assert.deepEqual(await lookupUser(name), { name, uid: Number(uid), gid: Number(gid), home, shell });
    }
    // A prefix of a name is not the name.
    assert.equal(await lookupUser('roo'), undefined);
    assert.equal(await lookupUser('no-such-user-here'), undefined);
  });
});

describe('the data channel', () => {
  test('dropped several times both ways while the program runs: resumed, nothing lost or doubled', { timeout: 30_000 }, async () => {
    const input = Buffer.from(randomBytes(150_000).toString('base64')); // 200,000 printable bytes
    const { hub: peer, session } = open(onPty(`stty raw -echo; echo READY; head -c ${input.length} | sha256sum; seq 1 400000`));
    await peer.waitForText('READY');
    // Input in 2 KB frames, the connection cut three times on the way (and input sent while it is
    // down, kept by the hub's Link and sent again).
    for (let offset = 0, chunk = 0; offset < input.length; offset += 2_000, chunk++) {
      peer.input(input.subarray(offset, offset + 2_000));
      if (chunk % 30 === 15) {
        const before = peer.connections;
        peer.drop();
        peer.input(input.subarray((offset += 2_000), offset + 2_000));
        await waitFor(() => peer.connections > before, 'the agent to come back');
      }
    }
    const digest = createHash('sha256').update(input).digest('hex');
    await peer.waitForText(digest, 15_000);
    // And the output, cut three times.
    for (let drop = 0; drop < 3; drop++) {
      const seen = peer.text().length;
      await waitFor(() => peer.text().length > seen + 50_000, 'more output');
      const before = peer.connections;
      peer.drop();
      await waitFor(() => peer.connections > before, 'the agent to come back');
    }
    await waitFor(() => peer.exit !== undefined, 'the Exit frame', 15_000);
    const text = peer.text();
    const numbers = text.slice(text.indexOf(digest) + digest.length).replace(/^[^\n]*\n/, '');
    const expected = Array.from({ length: 400_000 }, (_, i) => `${i + 1}\n`).join('');
    assert.equal(numbers.length, expected.length, 'as many bytes as seq printed');
    assert.equal(createHash('sha256').update(numbers).digest('hex'), createHash('sha256').update(expected).digest('hex'));
    assert.equal(peer.connections, 7, 'redialed after each drop');
    peer.end('done');
    await session.done;
  });

  test('held without Ready past the redial limit (the server waits for the other end): the agent keeps redialling, and resumes once Ready comes', { timeout: 30_000 }, async () => {
    const { hub: peer, session } = open(onPty('echo READY; cat'));
    await peer.waitForText('READY');
    peer.holdReady = true;
    const before = peer.connections;
    peer.drop();
    // Past resumeTimeoutMs (10 s) of being held, each time for readyTimeoutMs (3 s).
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    assert.ok(peer.connections >= before + 3, `redialled ${peer.connections - before} times while held`);
    assert.deepEqual(failures.filter((failure) => failure.sessionId === peer.sessionId), []);
    peer.holdReady = false;
    const held = peer.connections;
    await waitFor(() => peer.connections > held, 'the agent to dial again', 8_000);
    peer.input('back\r');
    await peer.waitForText(/back\r\n.*back/s);
    peer.end('done');
    await session.done;
  });

  test('resumed while the terminal hides its input: the Mode is said again (the server may be another node), and again once echo is back', { timeout: 20_000 }, async () => {
    const { hub: peer, session } = open(onPty('stty -echo; echo HIDING; read answer; stty echo; echo "got=$answer"; read next; echo "next=$next"'));
    const modes = (): data.TerminalMode[] => peer.frames.filter((frame) => frame.type === data.FrameType.Mode).map((frame) => data.readMode(frame.payload));
    const resume = async (): Promise<void> => {
      const before = peer.connections;
      peer.drop();
      await waitFor(() => peer.connections > before, 'the agent to come back');
    };
    await peer.waitForText('HIDING');
    assert.deepEqual(modes(), [{ echo: false, canonical: true }], 'stty -echo: told once');
    await resume();
    // The hub keeps its Link across connections, so a frame it already took is not counted twice: this one is new.
    await waitFor(() => modes().length === 2, `the mode said again after the resume (so far ${JSON.stringify(modes())})`);
    assert.deepEqual(modes()[1], { echo: false, canonical: true });
    peer.input('typed-unseen\r');
    await peer.waitForText('got=typed-unseen');
    assert.equal(peer.text().split('typed-unseen').length, 2, 'the terminal did not echo it (only the shell printed it)');
    assert.deepEqual(modes().slice(2), [{ echo: true, canonical: true }], 'stty echo: told once');
    await resume();
    // Echoed output typed after the resume comes after anything the agent sent at its Ready.
    peer.input('seen\r');
    await peer.waitForText('next=seen');
    assert.deepEqual(modes().slice(3), [{ echo: true, canonical: true }], 'echo on, whole lines: said again on the resume as well');
    peer.end('done');
    await session.done;
  });

  test('a reader that stops stops the program (the window), and it goes on when acknowledged', { timeout: 20_000 }, async () => {
    const { hub: peer, session } = open(command('head -c 20000000 /dev/zero'));
    peer.autoAck = false;
    await waitFor(() => peer.bytes().length >= data.DEFAULT_WINDOW, 'a window of output');
    await sleep(300);
    const held = peer.bytes().length;
    assert.ok(held < data.DEFAULT_WINDOW + data.MAX_PAYLOAD, `the agent stopped at its window (${held} bytes unacknowledged)`);
    peer.autoAck = true;
    peer.consume();
    await waitFor(() => peer.exit !== undefined, 'the Exit frame', 15_000);
    assert.equal(peer.bytes().length, 20_000_000);
    peer.end('done');
    await session.done;
  });

  test("an interactive command starts at the client's window size, which comes just after the channel opens", { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(onPty('stty size; tput cols'));
    await waitFor(() => peer.connections === 1, 'the agent to dial the data channel');
    peer.resize(132, 40);
    await peer.waitForText(/40 132\s+132/);
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    peer.end('done');
    await session.done;
  });

  test('the agent stopping ends its sessions with an Exit that says why, so the server need not wait for it', { timeout: 15_000 }, async () => {
    const stopping = new SessionManager({ ...options, report: () => undefined });
    const { hub: peer, session } = open(command('echo started; sleep 30'), stopping);
    await peer.waitForText('started');
    await stopping.stopAll('the agent stopped');
    assert.equal(await session.done, 'the agent stopped');
    await waitFor(() => peer.exit !== undefined, 'the Exit frame');
    assert.deepEqual(peer.exit, { status: 255, reason: 'the agent stopped' });
  });

  test('a second session-open for a running session (the server is back) dials at once, with its nonce', { timeout: 15_000 }, async () => {
    // Backoff long enough that only the session-open can bring the agent back within the test.
    const slow = new SessionManager({ ...options, report: () => undefined, link: { backoffBaseMs: 60_000, backoffCapMs: 60_000, random: () => 0.5 } });
    const id = 'tester-reopened';
    const peer = hub.expect(id, INSTANCE, 'first-nonce', publicKey);
    const session = slow.open({ type: 'session-open', sessionId: id, nonce: 'first-nonce', work: command('echo started; sleep 30') });
    assert.ok(session !== undefined);
    await peer.waitForText('started');
    peer.nonce = 'second-nonce';
    peer.drop();
    await waitFor(() => peer.socket === undefined, 'the drop');
    await sleep(100);
    assert.equal(peer.connections, 1, 'the agent waits out its backoff');
    assert.equal(slow.open({ type: 'session-open', sessionId: id, nonce: 'second-nonce', work: command('echo started; sleep 30') }), undefined, 'no second program');
    await waitFor(() => peer.connections === 2, 'the agent to dial again at once');
    assert.deepEqual(hub.refusals.filter((refusal) => refusal.includes(id)), []);
    await slow.stopAll();
    assert.equal(await session.done, 'the agent stopped');
  });

  test('a session-open naming another node while the channel is up: the agent drops it and dials that node', { timeout: 15_000 }, async () => {
    const other = await DataHub.start();
    try {
      const { hub: first, session, id } = open(command('echo started; sleep 30'));
      await first.waitForText('started');
      const nonce = first.nonce;
      const second = other.expect(id, INSTANCE, nonce, publicKey);
      assert.equal(manager.open({ type: 'session-open', sessionId: id, nonce, work: command('echo started; sleep 30'), endpointUrl: other.url, resume: true }), undefined, 'no second program');
      await waitFor(() => second.connections === 1, 'the agent at the node now carrying the session');
      await waitFor(() => first.socket === undefined, 'the channel to the old node closed');
      second.end('done');
      await session.done;
    } finally {
      await other.stop();
    }
  });

  test('input that comes while the program is starting waits, unacknowledged, and the program takes it once it runs', { timeout: 15_000 }, async () => {
    // The channel is dialled before the program starts; here the start is held until the input is at the agent.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let launching = 0;
    const holding = new SessionManager({
      ...options,
      beforeLaunch: () => {
        launching++;
        return held;
      },
    });
    const { hub: peer, session } = open(shell(), holding);
    await waitFor(() => launching === 1 && peer.connections === 1, 'the data channel, with the program held');
    peer.input('echo "early $((6 * 7))"\r');
    await waitFor(() => (session.link?.link.received ?? 0) >= 1, 'the input at the agent');
    // Acknowledgements go within ACK_DELAY_MS (10 ms): none in 200 ms, as none is due.
    await sleep(200);
    assert.equal(peer.link.delivered, 0, 'the input is not acknowledged while no program can take it');
    assert.equal(session.program, undefined);
    release();
    await peer.waitForText('early 42');
    await waitFor(() => peer.link.delivered === peer.link.sent, 'the input acknowledged once the program has it');
    await holding.stopAll();
    assert.equal(await session.done, 'the agent stopped');
  });

  test('a close code that says the session is gone ends it here', { timeout: 10_000 }, async () => {
    const id = 'tester-unknown';
    const session = manager.open({ type: 'session-open', sessionId: id, nonce: 'n', work: command('sleep 30') });
    assert.ok(session !== undefined);
    const reason = await session.done;
    assert.match(reason, /the session is not open on the server/);
  });
});

describe('ending', () => {
  test('session-close kills the whole process tree: background jobs, and those that ignore SIGHUP', { timeout: 15_000 }, async () => {
    const { hub: peer, session, id } = open(shell());
    await waitFor(() => peer.connections === 1, 'the data channel');
    peer.input('sleep 1001 & echo "bg=$!"; nohup sleep 1002 >/dev/null 2>&1 & echo "nohup=$!"; (trap "" HUP; exec sleep 1003) & echo "trap=$!"\r');
    await peer.waitForText(/trap=\d+/);
    const pids = ['bg', 'nohup', 'trap'].map((name) => Number(new RegExp(`${name}=(\\d+)`).exec(peer.text())?.[1]));
    assert.ok(pids.every((pid) => pid > 0 && alive(pid)), `the jobs run: ${pids.join(', ')}`);
    const shellPid = session.program?.pid ?? 0;
    manager.close(id, 'terminated by tester');
    assert.equal(await session.done, 'terminated by tester');
    await waitFor(() => pids.every((pid) => !alive(pid)) && !alive(shellPid), `the processes ${pids.join(', ')} to be gone`, 3_000);
    assert.equal(manager.get(id), undefined);
  });

  test('an End frame ends it too, and the channel is closed', { timeout: 15_000 }, async () => {
    const { hub: peer, session } = open(onPty('sleep 1004'));
    await waitFor(() => peer.connections === 1 && session.program !== undefined, 'the data channel');
    const pid = session.program?.pid ?? 0;
    peer.end('the session was idle for 20 minutes');
    assert.equal(await session.done, 'the session was idle for 20 minutes');
    await waitFor(() => !alive(pid), 'the program to be gone', 3_000);
    await waitFor(() => peer.socket === undefined, 'the agent to close the channel');
  });
});

describe('port forwarding', () => {
  let echo: Server;
  let port = 0;
  const sockets = new Set<Socket>();

  /** An echo server that answers a half-close with "bye" and then ends its side. */
  const echoServer = (): Server =>
    createServer({ allowHalfOpen: true }, (socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('end', () => socket.end('bye'));
      socket.on('close', () => sockets.delete(socket));
    });

  before(async () => {
    echo = echoServer();
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    port = (echo.address() as AddressInfo).port;
  });

  after(() => {
    for (const socket of sockets) socket.destroy();
    echo.close();
  });

  const stream = (peer: HubSession, id: number): number[] => peer.received.get(id) ?? [];

  test('connections both ways with credit, half-close, a refused one that leaves the others alone', { timeout: 20_000 }, async () => {
    const { hub: peer, session } = open({ kind: 'port', host: '127.0.0.1', port });
    await waitFor(() => peer.connections === 1, 'the data channel');

    // Stream 1: bytes sent before the Ok wait; then 3 MB (three times a stream's credit) and back.
    const first = peer.streams.open();
    const big = randomBytes(3 * streams.WINDOW_UPDATE * 4);
    const pending: Uint8Array[] = [big];
    peer.sendAll([...first.frames, ...first.stream.write(data.utf8('hello '))]);
    await waitFor(() => peer.accepted.has(1), 'Open Ok for stream 1');
    // Send as the credit allows (the hub's own Stream keeps what does not fit).
    peer.sendAll(first.stream.write(pending.shift() ?? new Uint8Array()));
    await waitFor(() => stream(peer, 1).length === 6 + big.length, 'the echo of everything', 15_000);
    assert.equal(Buffer.from(stream(peer, 1).slice(0, 6)).toString(), 'hello ');
    assert.ok(Buffer.from(stream(peer, 1).slice(6)).equals(big), 'the 3 MB came back intact');

    // Half-close: the server still answers, then ends its side.
    peer.sendAll(first.stream.fin());
    await waitFor(() => peer.ended.get(1) === 'fin', 'the Fin back');
    assert.ok(Buffer.from(stream(peer, 1)).toString('latin1').endsWith('bye'));
    assert.equal(first.stream.state, 'closed');

    // A second connection while the server stops listening: refused, with the reason.
    const listening = echo;
    await new Promise<void>((resolve) => listening.close(() => resolve()));
    const second = peer.streams.open();
    peer.sendAll(second.frames);
    await waitFor(() => peer.ended.has(2), 'the answer for stream 2');
    assert.match(JSON.stringify(peer.ended.get(2)), /cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.equal(session.link?.closed, false, 'the session goes on');

    // Listening again: a third connection works.
    echo = echoServer();
    await new Promise<void>((resolve) => echo.listen(port, '127.0.0.1', resolve));
    const third = peer.streams.open();
    peer.sendAll([...third.frames, ...third.stream.write(data.utf8('again'))]);
    await waitFor(() => Buffer.from(stream(peer, 3)).toString() === 'again', 'the third echo');

    // Reset from the client: the agent destroys that connection.
    const before = sockets.size;
    peer.sendAll(third.stream.reset('the local client went away'));
    await waitFor(() => sockets.size < before, 'the connection destroyed');
    peer.end('done');
    await session.done;
  });
});
