/**
 * A password typed at a `read -s` or `sudo` prompt never appears in any record, with the real
 * server, this agent's session runner (real PTYs, real bash, real sudo asking a real password)
 * and the testkit's DataPeer as the client, typing key by key the moment the prompt shows. The
 * password reaches the program (it says so), and the record file's bytes, the log events and
 * both objects in the bucket hold the commands around it and a marker instead of it; asciinema
 * plays the .cast, marker and all.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { loadModeReader, modeReader } from '@airlock/agent/session/terminal-mode';
import { data, documents, logs, sessions } from '@airlock/protocol';
import { readRecord } from '@airlock/server/sessions/record';
import { DataPeer, recordedText, sessionPreferences, startTestServer, type TestServer } from '@airlock/testkit';
import { startRealAgent, type RealAgent } from '@airlock/testkit/real-agent';
import { temporaryDirectory } from './helpers.js';

const suffix = randomBytes(3).toString('hex');
const SSM_USER = `airlock-r${suffix}`;
/** A user with a password, whom sudo asks for it. */
const SUDO_USER = `airlock-p${suffix}`;
const SUDOERS = `/etc/sudoers.d/airlock-test-${suffix}`;
const PASSWORD = `Pw-${randomBytes(9).toString('hex')}`;
const HIDDEN = '[input hidden: echo off]';

const preferences = (inputs: Record<string, unknown>): string =>
  sessionPreferences({ s3BucketName: 'session-recordings', s3KeyPrefix: 'sessions', s3EncryptionEnabled: false, cloudWatchLogGroupName: 'SessionManagerLogGroup', ...inputs });

describe('passwords typed in a real shell stay out of the records', () => {
  let server: TestServer;
  let agent: RealAgent | undefined;
  let cleanup: () => Promise<void> = () => Promise.resolve();

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'these tests make users and a sudoers rule: run them as root');
    execFileSync('sh', ['-c', 'command -v sudo && command -v useradd && command -v chpasswd && command -v setpriv'], { stdio: 'ignore' });
    execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', SUDO_USER]);
    execFileSync('chpasswd', { input: `${SUDO_USER}:${PASSWORD}\n` });
    // sudo asks this user for their own password (no cached credentials, no lecture to wade through).
    await writeFile(SUDOERS, `Defaults:${SUDO_USER} !lecture, timestamp_timeout=0\n${SUDO_USER} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });

    server = await startTestServer();
    const dir = await temporaryDirectory();
    cleanup = () => dir.remove();
    agent = await startRealAgent(server, { stateDir: dir.path, ssmUser: SSM_USER, sudoersFile: `${dir.path}/ssm-agent-users` });
    await server.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: preferences({}), DocumentType: 'Session' });
  });

  after(async () => {
    await agent?.stop();
    await server.stop();
    await cleanup();
    await rm(SUDOERS, { force: true });
    for (const user of [SUDO_USER, SSM_USER]) {
      try {
        execFileSync('userdel', ['-r', user], { stdio: 'ignore' });
      } catch {
        // Not made.
      }
    }
  });

  /** A shell session, its prompt shown. */
  async function shell(): Promise<{ id: string; client: DataPeer }> {
    const started = await server.root.call(sessions.StartSession, { Target: agent?.instanceId ?? '' });
    const client = new DataPeer();
    await client.connect(started.StreamUrl, { role: 'client', token: started.TokenValue });
    await client.waitFor(() => /\$ $/.test(client.text()), `the prompt (so far ${JSON.stringify(client.text())})`, 15_000);
    return { id: started.SessionId, client };
  }

  /** Types as a person does: a frame per key. */
  function type(client: DataPeer, text: string): void {
    for (const key of Array.from(text)) client.sendText(key);
  }

  /**
   * The session ended; every copy of its record as text: the record file (its bytes, and its
   * input and output each joined, as keys are recorded one by one), the log events (likewise),
   * and both objects.
   */
  async function copies(id: string): Promise<Record<string, string>> {
    const { objects } = server.server.services;
    let cast: Buffer | undefined;
    for (let attempt = 0; attempt < 200 && cast === undefined; attempt++) {
      await objects.outbox.drain();
      cast = (await objects.store.get('session-recordings', `sessions/${id}.cast`))?.body;
      if (cast === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const logObject = await objects.store.get('session-recordings', `sessions/${id}.log`);
    const { events } = await server.root.call(logs.GetLogEvents, { logGroupName: 'SessionManagerLogGroup', logStreamName: id, startFromHead: true });
    const messages = events.map((event) => JSON.parse(event.message) as { input?: string; output?: string });
    const path = `${server.dataDir}/records/${id}.rec`;
    const { entries } = await readRecord(path);
    // What the record says of the terminal, frame by frame, for a failure's message.
    trace = JSON.stringify(entries.filter((entry) => entry.stream === 0).map((entry) => [entry.direction, entry.type, entry.withheld === true ? 'withheld' : data.fromUtf8(entry.payload)]));
    return {
      'record file': (await readFile(path)).toString('latin1'),
      'recorded input': recordedText(entries, 'input'),
      'recorded output': recordedText(entries, 'output'),
      'input events': messages.map((message) => message.input ?? '').join(''),
      'output events': messages.map((message) => message.output ?? '').join(''),
      '.log object': logObject?.body.toString('utf8') ?? '',
      '.cast object': cast?.toString('utf8') ?? '',
    };
  }

  let trace = '';

  /** No copy holds the password, nor a piece of it; `around` are in the copies named. */
  function assertRedacted(found: Record<string, string>, around: Record<string, readonly string[]>): void {
    for (const [where, text] of Object.entries(found)) {
      assert.ok(text.length > 0, `there is a ${where}`);
      assert.ok(!text.includes(PASSWORD.slice(3, 9)), `the password is not in the ${where} (the record: ${trace})`);
      for (const words of around[where] ?? []) assert.ok(text.includes(words), `"${words}" is in the ${where}: ${JSON.stringify(text)}`);
    }
    assert.ok(found['input events']?.includes(HIDDEN), 'the log events mark the hidden input');
    assert.ok(found['.log object']?.includes(HIDDEN), 'the transcript marks the hidden input');
    assert.ok(found['.cast object']?.includes(`"m","${HIDDEN}"`), 'the asciicast marks the hidden input');
  }

  /** What the copies hold of a session: the typed commands in the input, their output in the rest. */
  function around(commands: readonly string[], output: readonly string[]): Record<string, readonly string[]> {
    return { 'recorded input': commands, 'input events': commands, 'recorded output': output, 'output events': output, '.log object': output, '.cast object': output, 'record file': output };
  }

  test('the addon that reads the mode is built and loads', () => {
    const reader = modeReader();
    assert.ok('read' in reader, `the addon: ${'problem' in reader ? reader.problem : ''}`);
    const missing = loadModeReader('/nonexistent/terminal_mode.node');
    assert.ok('problem' in missing && /Cannot find module/.test(missing.problem));
  });

  test('read -s: the password reaches the shell, the records have the commands around it and a marker', { timeout: 60_000 }, async () => {
    await server.root.call(documents.UpdateDocument, { Name: 'SSM-SessionManagerRunShell', Content: preferences({ cloudWatchStreamingEnabled: true }), DocumentVersion: '$LATEST' });
    const { id, client } = await shell();
    // The prompt's words are not in the command line as typed (its echo must not pass for the prompt).
    type(client, 'P=Secret; read -s -p "$P: " answer; echo "length=${#answer}"\r');
    await client.waitFor(() => client.text().endsWith('Secret: '), 'the read -s prompt', 10_000);
    type(client, `${PASSWORD}\r`);
    await client.waitFor(() => client.text().includes(`length=${PASSWORD.length}`), 'the shell to have the password', 10_000);
    type(client, '[ "$answer" = \'' + PASSWORD.slice(0, 3) + "'\"${answer:3}\" ] && echo matched-$((6*7))\r");
    await client.waitFor(() => client.text().includes('matched-42'), 'the shell to say it matched', 10_000);
    type(client, 'exit\r');
    await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.End), 'the end', 10_000);
    assert.ok(!client.text().includes(PASSWORD), 'the terminal never showed it either');
    assertRedacted(await copies(id), around(['read -s -p "$P: " answer', 'exit\r'], ['Secret: ', `length=${PASSWORD.length}`, 'matched-42']));
  });

  test('sudo asks for a real password: it takes it, and the records have the commands around it and a marker', { timeout: 60_000 }, async () => {
    await server.root.call(documents.UpdateDocument, { Name: 'SSM-SessionManagerRunShell', Content: preferences({ cloudWatchStreamingEnabled: false, runAsEnabled: true, runAsDefaultUser: SUDO_USER }), DocumentVersion: '$LATEST' });
    const { id, client } = await shell();
    type(client, 'sudo -k id -un\r');
    await client.waitFor(() => client.text().endsWith(`[sudo] password for ${SUDO_USER}: `), `sudo's prompt (so far ${JSON.stringify(client.text())})`, 10_000);
    type(client, `${PASSWORD}\r`);
    // The shell's prompt again (what is typed while sudo exits may go to sudo, as on any terminal).
    await client.waitFor(() => /\r\nroot\r\n[^]*\$ $/.test(client.text()), `sudo to run the command as root (so far ${JSON.stringify(client.text())})`, 15_000);
    type(client, 'echo done-$((6*7))\r');
    await client.waitFor(() => client.text().includes('done-42'), `the next command (so far ${JSON.stringify(client.text())})`, 10_000);
    type(client, 'exit\r');
    await client.waitFor(() => client.frames.some((frame) => frame.type === data.FrameType.End), 'the end', 10_000);
    const found = await copies(id);
    assertRedacted(found, around(['sudo -k id -un\r', 'echo done-$((6*7))\r'], [`[sudo] password for ${SUDO_USER}: `, 'done-42']));
    // A player takes the marker in its stride: asciinema plays the .cast (it reads keys from /dev/tty, so script(1) gives it one).
    const dir = await temporaryDirectory();
    try {
      await writeFile(`${dir.path}/session.cast`, found['.cast object'] ?? '');
      const played = execFileSync('script', ['-qec', `asciinema cat ${dir.path}/session.cast`, '/dev/null'], { env: { ...process.env, ASCIINEMA_CONFIG_HOME: `${dir.path}/asciinema` }, timeout: 20_000, encoding: 'utf8' });
      assert.ok(played.includes(`[sudo] password for ${SUDO_USER}: `) && played.includes('done-42'), `asciinema cat plays it: ${JSON.stringify(played)}`);
    } finally {
      await dir.remove();
    }
  });
});
