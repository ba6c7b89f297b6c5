/** The pure parts of start-session: --parameters, the mode a document asks for, the retry delays. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelays, DEFAULT_RETRY } from '@airlock/client/session';
import { knownMode, modeOfContent, sessionMode } from '@airlock/cli/session/mode';
import { parseSessionParameters } from '@airlock/cli/session/parameters';
import { airlock } from './helpers.js';

test('--parameters: shorthand and JSON, every value a list', () => {
  assert.deepEqual(parseSessionParameters(['portNumber=80,localPortNumber=8080']), { portNumber: ['80'], localPortNumber: ['8080'] });
  assert.deepEqual(parseSessionParameters(['units=nginx,sshd,portNumber=22']), { units: ['nginx', 'sshd'], portNumber: ['22'] });
  assert.deepEqual(parseSessionParameters(['units=[nginx,sshd]']), { units: ['nginx', 'sshd'] });
  assert.deepEqual(parseSessionParameters(['command="echo a, b; exit 3"']), { command: ['echo a, b; exit 3'] });
  assert.deepEqual(parseSessionParameters(["command='ls -l',portNumber=22"]), { command: ['ls -l'], portNumber: ['22'] });
  assert.throws(() => parseSessionParameters(['command="echo']), /quote is not closed/);
  assert.deepEqual(parseSessionParameters(['{"command":["echo a,b"]}']), { command: ['echo a,b'] });
  assert.deepEqual(parseSessionParameters(['{"portNumber":["22"],"host":"db.internal","n":5}']), { portNumber: ['22'], host: ['db.internal'], n: ['5'] });
  assert.equal(parseSessionParameters(undefined), undefined);
  assert.throws(() => parseSessionParameters(['nonsense']), /name=value/);
  assert.throws(() => parseSessionParameters(['{"a":']), /not valid JSON/);
  assert.throws(() => parseSessionParameters(['{"a":{"b":1}}']), /a must be a string/);
});

test('the mode: AWS documents by name (or ARN), others by their content, a terminal by default', async () => {
  assert.equal(knownMode(undefined), 'terminal');
  assert.equal(knownMode('AWS-StartSSHSession'), 'pipe');
  assert.equal(knownMode('arn:aws:ssm:us-east-1::document/AWS-StartPortForwardingSessionToRemoteHost'), 'port');
  assert.equal(knownMode('AWS-StartNonInteractiveCommand'), 'command');
  assert.equal(knownMode('AWS-StartInteractiveCommand'), 'terminal');
  assert.equal(knownMode('Team-Tunnel'), undefined);
  assert.equal(knownMode('constructor'), undefined);
  assert.equal(modeOfContent('{"schemaVersion":"1.0","sessionType":"Port","properties":{"portNumber":"5432","type":"LocalPortForwarding"}}'), 'port');
  assert.equal(modeOfContent('schemaVersion: "1.0"\nsessionType: Port\nparameters:\n  portNumber: {type: String}\n'), 'pipe');
  assert.equal(modeOfContent('{"sessionType":"NonInteractiveCommands"}'), 'command');
  assert.equal(modeOfContent('{"sessionType":"InteractiveCommands"}'), 'terminal');
  assert.equal(modeOfContent('not: [valid'), undefined);
  assert.equal(await sessionMode('Team-Status', () => Promise.resolve('{"sessionType":"NonInteractiveCommands"}')), 'command');
  assert.equal(await sessionMode('Team-Status', () => Promise.resolve(undefined)), 'terminal');
  let asked = false;
  assert.equal(
    await sessionMode('AWS-StartSSHSession', () => {
      asked = true;
      return Promise.resolve(undefined);
    }),
    'pipe',
  );
  assert.equal(asked, false, 'no GetDocument for the built-in documents');
});

test('resume delays: 100–200 ms, doubling, at most 5 s, a bounded number that outlasts a dead node', () => {
  const delays = [...backoffDelays(DEFAULT_RETRY, () => 0.5)];
  assert.deepEqual(delays, [150, 300, 600, 1200, 2400, 4800, ...Array<number>(8).fill(5000)]);
  const shortest = [...backoffDelays(DEFAULT_RETRY, () => 0)];
  assert.equal(shortest[0], 100);
  // A dead node's URL is answered for 15 s (its heartbeat's TTL); then a live node takes over.
  const total = shortest.reduce((sum, delay) => sum + delay, 0);
  assert.ok(total >= 45_000, `the attempts span at least 45 s even at the shortest draws, not ${total} ms`);
});

test('start-session is the special command: its help, its usage errors', async () => {
  const help = await airlock(['ssm', 'start-session', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--document-name/);
  assert.match(help.stdout, /ProxyCommand/);
  const listing = await airlock(['ssm']);
  assert.match(listing.stdout, /start-session\s+Open a session on an instance and use it from here/);
  const missing = await airlock(['ssm', 'start-session']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--target is required/);
  const badPort = await airlock(['ssm', 'start-session', '--target', 'mi-0', '--parameters', 'localPortNumber=70000']);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /localPortNumber must be a port/);
});
