/**
 * The terminal-mode watch: the addon reads a real PTY's mode as the program sets it (bash's
 * readline, `read -s`, back to readline); ModeWatch tells each change once, in order, finds
 * a silent change by polling, and says a mode other than the initial one again on request (a
 * resumed data channel); an agent whose addon cannot load says so loudly and still works.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { SessionManager } from '@airlock/agent';
import { spawnPty } from '@airlock/agent/session/programs';
import { ACTIVE_POLL_MS, BULK_BYTES, loadModeReader, modeReader, ModeWatch } from '@airlock/agent/session/terminal-mode';
import { data } from '@airlock/protocol';
import { capturedLogger, sleep, waitFor } from './helpers.js';

const self = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' };
const { Echo, Canonical } = data.ModeBit;

test("the addon reads a real terminal's mode as bash sets it: readline, read -s, readline again", { timeout: 20_000 }, async () => {
  const reader = modeReader();
  assert.ok('read' in reader, `the addon loads (${'problem' in reader ? reader.problem : ''})`);
  let output = '';
  const program = spawnPty(
    { identity: { account: self, switchUser: false }, argv: ['/bin/bash', '--norc', '--noprofile', '-i'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PS1: 'ready$ ', TERM: 'xterm' }, cwd: '/', cols: 80, rows: 24 },
    {
      onData: (bytes) => {
        output += Buffer.from(bytes).toString('utf8');
      },
      onExit: () => undefined,
    },
  );
  try {
    const mode = (): data.TerminalMode | undefined => {
      const fd = program.terminalFd();
      return fd === undefined ? undefined : data.modeOf(reader.read(fd));
    };
    await waitFor(() => output.endsWith('ready$ '), 'the prompt');
    assert.deepEqual(mode(), { echo: false, canonical: false }, 'readline edits the line itself');
    program.write(Buffer.from('read -s -p "$((6*7)): " x\r'));
    await waitFor(() => output.endsWith('42: '), 'the read -s prompt');
    await waitFor(() => mode()?.echo === false && mode()?.canonical === true, 'read -s: echo off, whole lines');
    program.write(Buffer.from('secret\r'));
    await waitFor(() => output.endsWith('ready$ '), 'the prompt again');
    assert.deepEqual(mode(), { echo: false, canonical: false });
  } finally {
    await program.terminate(200);
  }
  await waitFor(() => program.terminalFd() === undefined, 'no descriptor once the terminal is gone (its number may be reused)');
});

test('ModeWatch tells each change once and in order, finds a silent change by polling, and stops', async () => {
  let current: number | undefined = Echo | Canonical;
  const sent: data.TerminalMode[] = [];
  const watch = new ModeWatch(
    () => current,
    (mode) => sent.push(mode),
  );
  try {
    watch.check();
    assert.deepEqual(sent, [], 'a terminal starts as echo on, canonical: nothing to say');
    current = 0;
    watch.check();
    watch.check();
    assert.deepEqual(sent, [{ echo: false, canonical: false }]);
    // A change nobody looked for (no input, no output after it): the poll finds it.
    watch.output(10);
    current = Canonical;
    await waitFor(() => sent.length === 2, 'the poll to find the change', 1_000);
    assert.deepEqual(sent[1], { echo: false, canonical: true });
    current = undefined;
    watch.check();
    assert.equal(sent.length, 2, 'a terminal gone says nothing');
    watch.stop();
    current = Echo | Canonical;
    await sleep(ACTIVE_POLL_MS * 5);
    watch.check();
    assert.equal(sent.length, 2, 'nothing after stop');
  } finally {
    watch.stop();
  }
});

test('ModeWatch.resend says the last mode again for a server that may not know it, the initial one too', () => {
  let current = Echo | Canonical;
  const sent: data.TerminalMode[] = [];
  const watch = new ModeWatch(
    () => current,
    (mode) => sent.push(mode),
  );
  try {
    watch.resend();
    assert.deepEqual(sent, [{ echo: true, canonical: true }], 'echo on, whole lines: said too (a server taking over withholds input until told)');
    current = Canonical;
    watch.check();
    watch.resend();
    assert.deepEqual(sent.slice(1), [{ echo: false, canonical: true }, { echo: false, canonical: true }], 'a password prompt: said again');
    current = 0;
    watch.check();
    watch.resend();
    assert.deepEqual(sent.slice(3), [{ echo: false, canonical: false }, { echo: false, canonical: false }], 'a line editor: said again too');
    current = Echo | Canonical;
    watch.check();
    watch.resend();
    assert.deepEqual(sent.slice(5), [{ echo: true, canonical: true }, { echo: true, canonical: true }], 'back to the initial mode: a change, then said again');
    current = Canonical;
    watch.check();
    watch.stop();
    watch.resend();
    assert.equal(sent.length, 8, 'nothing after stop');
  } finally {
    watch.stop();
  }
});

test('ModeWatch reads before each small output, bulk output once a millisecond at most, and at the next turn after small output only', async () => {
  let reads = 0;
  let now = 1_000;
  const watch = new ModeWatch(
    () => {
      reads++;
      return Echo | Canonical;
    },
    () => undefined,
    () => now,
  );
  try {
    for (let chunk = 0; chunk < 100; chunk++) watch.output(64 * 1024);
    assert.equal(reads, 1, 'a burst of bulk output within a millisecond: one read');
    now += 1;
    watch.output(BULK_BYTES);
    assert.equal(reads, 2, 'a millisecond later: read again');
    for (let chunk = 0; chunk < 5; chunk++) watch.output(BULK_BYTES - 1);
    watch.input();
    assert.equal(reads, 8, 'small output (a prompt, an echo) and input: read every time');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 9, 'at the next turn after small output, once (`read -s -p` turns echo off just after its prompt)');
    watch.input();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reads, 10, 'input: read before it is written, not again at the next turn (the program has not run yet)');
  } finally {
    watch.stop();
  }
});

test('without the addon the agent still makes its session manager, and warns loudly that passwords will be recorded', () => {
  const missing = loadModeReader('/nonexistent/terminal_mode.node');
  assert.ok('problem' in missing && /Cannot find module/.test(missing.problem), 'the problem is named');
  const log = capturedLogger();
  const manager = new SessionManager({
    endpointUrl: 'http://127.0.0.1:9',
    instanceId: 'mi-00000000000000000',
    privateKey: generateKeyPairSync('ed25519').privateKey,
    agentVersion: 'test',
    log,
    report: () => undefined,
    modeReader: missing,
  });
  assert.equal(manager.size, 0);
  assert.match(log.text(), /^WARN PASSWORDS WILL BE RECORDED: .*Cannot find module/m);
  const quiet = capturedLogger();
  new SessionManager({ endpointUrl: 'http://127.0.0.1:9', instanceId: 'mi-00000000000000000', privateKey: generateKeyPairSync('ed25519').privateKey, agentVersion: 'test', log: quiet, report: () => undefined });
  assert.doesNotMatch(quiet.text(), /PASSWORDS/, 'with the addon: no warning');
});
