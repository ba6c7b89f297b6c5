/** `airlock login` (RFC 8628) against a real server: approve the code, the token is cached 0600 and used. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { identitystore, portal } from '@airlock/protocol';
import { startTestServer, temporaryDirectory, type TestServer } from '@airlock/testkit';
import { repoFile } from './helpers.js';

let server: TestServer;
let config: { path: string; remove: () => Promise<void> };
let userToken: string;

before(async () => {
  server = await startTestServer();
  config = await temporaryDirectory();
  await server.root.call(portal.PutMfaSettings, { MfaMode: 'DISABLED', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'ALLOW' });
  const { OneTimePassword } = await server.root.call(identitystore.CreateUser, { UserName: 'cliuser', PasswordSetup: 'ONE_TIME_PASSWORD' });
  const first = await server.client().call(portal.InitiateAuth, { Username: 'cliuser', Password: OneTimePassword ?? '' });
  const done = await server.client().call(portal.RespondToAuthChallenge, {
    ChallengeName: 'NEW_PASSWORD_REQUIRED',
    Session: first.Session ?? '',
    ChallengeResponses: { NEW_PASSWORD: 'command line passphrase' },
  });
  userToken = done.AuthenticationResult?.AccessToken ?? '';
});
after(async () => {
  await server.stop();
  await config.remove();
});

function cli(args: readonly string[]): { output: Promise<{ code: number | null; stdout: string; stderr: string }>; stderrLines: (listener: (text: string) => void) => void } {
  const child = spawn(process.execPath, [repoFile('packages/cli/bin/airlock.js'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', AIRLOCK_CONFIG_DIR: config.path, AIRLOCK_ENDPOINT_URL: server.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners: ((text: string) => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const listener of listeners) listener(stderr);
  });
  const output = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { output, stderrLines: (listener) => listeners.push(listener) };
}

test('airlock login shows a code; once approved, the token is cached 0600 and later commands use it', async () => {
  const run = cli(['login']);
  const code = await new Promise<string>((resolve) => {
    run.stderrLines((text) => {
      const match = /--user-code ([A-Z]{4}-[A-Z]{4})/.exec(text);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
  });
  const approved = await server.client(userToken).call(portal.ApproveDeviceAuthorization, { UserCode: code.toLowerCase() });
  assert.match(approved.ClientName ?? '', /^airlock CLI on /);
  const result = await run.output;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Signed in/);
  const info = await stat(`${config.path}/credentials.json`);
  assert.equal(info.mode & 0o777, 0o600);

  const session = await cli(['portal', 'get-session']).output;
  assert.equal(session.code, 0, session.stderr);
  assert.equal((JSON.parse(session.stdout) as { UserName: string }).UserName, 'cliuser');

  const out = await cli(['logout']).output;
  assert.equal(out.code, 0, out.stderr);
  const afterLogout = await cli(['portal', 'get-session']).output;
  assert.equal(afterLogout.code, 254);
  assert.match(afterLogout.stderr, /UnauthorizedException/);
});

test('approving an unknown code is refused', async () => {
  await assert.rejects(server.client(userToken).call(portal.ApproveDeviceAuthorization, { UserCode: 'BBBB-CCCC' }), /No sign-in is waiting for that code/);
});
