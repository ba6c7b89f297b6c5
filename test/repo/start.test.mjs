// `npm start` (scripts/start.mjs) as a person meets it, on a free port and a temporary data
// directory: the printed invitation link sets testuser01's password, the sign-in takes the
// mailed code printed in the same output, and testuser01's role session may start a session on
// prod-server01 and is denied dev-server01. Ctrl-C (SIGINT) stops everything; a second start
// over the same data changes nothing and finds the session of the first.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { clearTimeout } from 'node:timers';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AirlockApiError, AirlockClient } from '@airlock/client';

const root = new URL('../..', import.meta.url).pathname;
const PASSWORD = 'a long demo passphrase';

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs scripts/start.mjs; `output` grows as it prints; `waitFor(pattern)` waits (bounded) for a match. */
function startDemo(port, dataDir) {
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', String(port), '--data-dir', dataDir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const demo = { child, output: '' };
  child.stdout.on('data', (chunk) => (demo.output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk) => (demo.output += chunk.toString('utf8')));
  demo.waitFor = async (pattern, seconds = 120) => {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const match = pattern.exec(demo.output);
      if (match !== null) return match;
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`npm start never printed ${String(pattern)}; it printed:\n${demo.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  demo.interrupt = async () => {
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGINT');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const status = await exited;
    clearTimeout(timeout);
    return status;
  };
  return demo;
}

describe('npm start: the guide demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-start-'));
  let demo;
  after(async () => {
    if (demo !== undefined && demo.child.exitCode === null) await demo.interrupt();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the printed instructions work, Ctrl-C stops it all, and a restart keeps the data and changes nothing', { timeout: 300_000 }, async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    demo = startDemo(port, dataDir);
    await demo.waitFor(/The root token/);
    assert.match(demo.output, new RegExp(`Console: ${endpoint}/`));
    const link = (await demo.waitFor(/testuser01 .*\n\s+(http\S+accept-invitation\?token=(\S+))/))[2];
    assert.match(demo.output, /admin01 .*\n\s+http\S+accept-invitation\?token=\S+/);
    assert.match(demo.output, /testuser02 .*\n\s+http\S+accept-invitation\?token=\S+/);

    const anonymous = new AirlockClient({ endpointUrl: endpoint });
    await anonymous.callByName('portal', 'AcceptInvitation', { InvitationToken: decodeURIComponent(link), Password: PASSWORD });
    const first = await anonymous.callByName('portal', 'InitiateAuth', { Username: 'testuser01', Password: PASSWORD });
    assert.equal(first.ChallengeName, 'EMAIL_OTP', 'the guide asks for a second factor: a mailed code for a user without an app');
    const code = (await demo.waitFor(/\[server\] mail: to testuser01@example\.com .*code: (\d{6})/))[1];
    const signedIn = await anonymous.callByName('portal', 'RespondToAuthChallenge', { ChallengeName: 'EMAIL_OTP', Session: first.Session, ChallengeResponses: { EMAIL_OTP_CODE: code } });
    const person = new AirlockClient({ endpointUrl: endpoint, token: signedIn.AuthenticationResult.AccessToken });
    const [account] = (await person.callByName('portal', 'ListAccounts', {})).AccountList;
    const { RoleCredentials } = await person.callByName('portal', 'GetRoleCredentials', { AccountId: account.AccountId, RoleName: 'ProductionPermissionSet' });
    const role = new AirlockClient({ endpointUrl: endpoint, token: RoleCredentials.AccessToken });

    const rootToken = new AirlockClient({ endpointUrl: endpoint, token: readFileSync(join(dataDir, 'root-token'), 'utf8').trim() });
    const instances = (await rootToken.callByName('ssm', 'DescribeInstanceInformation', {})).InstanceInformationList;
    const idOf = (name) => instances.find((instance) => instance.Name === name)?.InstanceId ?? assert.fail(`no instance ${name}`);
    const session = await role.callByName('ssm', 'StartSession', { Target: idOf('prod-server01') });
    assert.match(session.SessionId, /^testuser01-/);
    await role.callByName('ssm', 'TerminateSession', { SessionId: session.SessionId });
    await assert.rejects(role.callByName('ssm', 'StartSession', { Target: idOf('dev-server01') }), (error) => error instanceof AirlockApiError && error.code === 'AccessDeniedException');

    assert.equal(await demo.interrupt(), 0);
    assert.match(demo.output, /\[server\] exited/);
    assert.match(demo.output, /\[prod-server01\] exited/);
    assert.match(demo.output, /\[dev-server01\] exited/);

    demo = startDemo(port, dataDir);
    await demo.waitFor(/The root token/);
    assert.match(demo.output, /No changes: the server already has everything examples\/guide-walkthrough-on-premises\.yaml describes/);
    assert.match(demo.output, /No changes: the server already has everything examples\/demo-admin\.yaml describes/);
    assert.doesNotMatch(demo.output, /Registered as|created log group|Session Manager preferences:/, 'nothing made twice');
    const history = await rootToken.callByName('ssm', 'DescribeSessions', { State: 'History' });
    assert.ok(history.Sessions.some((past) => past.SessionId === session.SessionId), 'the first run\'s session is in the history');
    assert.equal((await rootToken.callByName('ssm', 'DescribeInstanceInformation', {})).InstanceInformationList.length, 2, 'no agent registered twice');
    assert.equal(await demo.interrupt(), 0);
  });
});
