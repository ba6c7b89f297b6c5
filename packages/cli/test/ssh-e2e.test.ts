/**
 * The CLI with everything real: the server, the agent (registered with an activation, its
 * control channel and sessions in this process), OpenSSH's sshd on a loopback port, and ssh and
 * scp using `airlock ssm start-session --document-name AWS-StartSSHSession` as ProxyCommand, with
 * the ~/.ssh/config lines docs/sessions-client.md gives. Also a command's output and exit status,
 * a shell on the agent's PTY from a terminal (script(1)) with its size, and the guide's Test 1 as
 * testuser01 with the guide's policy. Needs root (the agent makes its ssm-user) and sshd: CI
 * installs it; elsewhere these tests fail rather than skip.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fleet, identitystore, organizations, roleSessions, sessions, ssoAdmin } from '@airlock/protocol';
import { createPerson, signIn, startTestServer, temporaryDirectory, type TestServer } from '@airlock/testkit';
import { cliEnvironment, inTerminal, repoFile } from './helpers.js';
import { startRealAgent } from '@airlock/testkit/real-agent';
import { sha256 } from './session-agent.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const SSM_USER = `airlock-c${randomBytes(3).toString('hex')}`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('with the real agent and OpenSSH', () => {
  let server: TestServer;
  let stopAgent: () => Promise<void> = () => Promise.resolve();
  let instanceId = '';
  let dir: { path: string; remove: () => Promise<void> };
  let sshd: ChildProcess | undefined;
  let sshdPort = 0;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = await startTestServer();
    dir = await temporaryDirectory();
    const agent = await startRealAgent(server, { stateDir: `${dir.path}/agent`, ssmUser: SSM_USER, sudoersFile: `${dir.path}/sudoers-ssm-agent-users` });
    stopAgent = agent.stop;
    instanceId = agent.instanceId;

    // sshd of its own on a loopback port, for root with a key made here.
    await mkdir('/run/sshd', { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir.path}/host_key`]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir.path}/id_ed25519`]);
    await writeFile(`${dir.path}/authorized_keys`, await readFile(`${dir.path}/id_ed25519.pub`));
    sshdPort = await freePort();
    await writeFile(
      `${dir.path}/sshd_config`,
      [
        `Port ${sshdPort}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${dir.path}/host_key`,
        `PidFile ${dir.path}/sshd.pid`,
        `AuthorizedKeysFile ${dir.path}/authorized_keys`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    sshd = spawn(SSHD, ['-D', '-e', '-f', `${dir.path}/sshd_config`], { stdio: 'ignore' });
    for (let tries = 0; ; tries++) {
      const probe = await new Promise<boolean>((resolve) => {
        const socket = createServer().listen(sshdPort, '127.0.0.1');
        socket.on('listening', () => socket.close(() => resolve(false)));
        socket.on('error', () => resolve(true));
      });
      if (probe) break;
      if (tries > 100) throw new Error('sshd did not start');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // The config lines of docs/sessions-client.md, with this test's port, user and key.
    await writeFile(
      `${dir.path}/ssh_config`,
      [
        'Host i-* mi-*',
        '  ProxyCommand airlock ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p',
        `  Port ${sshdPort}`,
        '  User root',
        `  IdentityFile ${dir.path}/id_ed25519`,
        '  IdentitiesOnly yes',
        '  StrictHostKeyChecking no',
        '  UserKnownHostsFile /dev/null',
        '  LogLevel ERROR',
        '',
      ].join('\n'),
    );
    env = cliEnvironment(server, dir.path);
  });

  after(async () => {
    sshd?.kill();
    await stopAgent();
    await server.stop();
    await dir.remove();
    spawnSync('userdel', ['-r', SSM_USER], { stdio: 'ignore' });
  });

  test('ssh with ProxyCommand runs a command; scp copies 5 MB there and back, whole', { timeout: 60_000 }, async () => {
    const ssh = ['-F', `${dir.path}/ssh_config`];
    const { stdout } = await run('ssh', [...ssh, instanceId, 'echo "hello from $(id -un)"'], { env, timeout: 20_000 });
    assert.equal(stdout, 'hello from root\n');

    const file = randomBytes(5 * 1024 * 1024);
    await writeFile(`${dir.path}/upload.bin`, file);
    await run('scp', ['-q', ...ssh, `${dir.path}/upload.bin`, `${instanceId}:${dir.path}/remote.bin`], { env, timeout: 30_000 });
    await run('scp', ['-q', ...ssh, `${instanceId}:${dir.path}/remote.bin`, `${dir.path}/download.bin`], { env, timeout: 30_000 });
    assert.equal(sha256(await readFile(`${dir.path}/remote.bin`)), sha256(file));
    assert.equal(sha256(await readFile(`${dir.path}/download.bin`)), sha256(file));

    // Each connection was a session of its own, ended when ssh was done.
    const { Sessions } = await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'Target', value: instanceId }] });
    assert.ok(Sessions.filter((session) => session.DocumentName === 'AWS-StartSSHSession' && session.Status === 'Terminated').length >= 3);
  });

  test('a command through the real agent: its output on stdout, its status as the exit code', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [repoFile('packages/cli/bin/airlock.js'), 'ssm', 'start-session', '--target', instanceId, '--document-name', 'AWS-StartNonInteractiveCommand', '--parameters', '{"command":["echo out; echo err >&2; exit 5"]}'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 5, stderr);
    assert.match(stdout, /out\n/);
    assert.match(stdout, /err\n/);
    assert.match(stderr, /^Starting session with SessionId: root-[0-9a-f]{17}\n/);
    assert.match(stderr, /Exiting session with sessionId: root-[0-9a-f]{17}\.\n$/);
  });

  test("a command reads the CLI's stdin to its end", { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [repoFile('packages/cli/bin/airlock.js'), 'ssm', 'start-session', '--target', instanceId, '--document-name', 'AWS-StartNonInteractiveCommand', '--parameters', 'command=sha256sum'], { env });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const input = randomBytes(3 * 1024 * 1024);
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.equal(stdout.trim().split(/\s+/)[0], sha256(input));
  });

  test('a shell fed from a pipe runs the commands and ends with the input, a slow command included, as with ssh', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [repoFile('packages/cli/bin/airlock.js'), 'ssm', 'start-session', '--target', instanceId], { env });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.end('echo first-$((6*7))\nsleep 1; echo second-$((6*8))\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /first-42/);
    assert.match(stdout, /second-48/);
  });

  test('a shell on a real PTY through a terminal (script): the window size, keystrokes, the exit status, the terminal restored', { timeout: 30_000 }, async () => {
    const command = `stty cols 101 rows 31; airlock ssm start-session --target ${instanceId}; code=$?; echo "STTY: $(stty -a | tr '\\n' ' ')"; exit $code`;
    const { code, screen } = await inTerminal(command, { ...env, SHELL: '/bin/sh', TERM: 'xterm' }, 'echo "size=$(stty size) user=$(id -un)"; exit 3\r');
    assert.equal(code, 3, screen);
    assert.match(screen, new RegExp(`size=31 101 user=${SSM_USER}`));
    assert.match(screen, /Exiting session with sessionId: root-/);
    const stty = /STTY: (.*)/.exec(screen)?.[1] ?? '';
    assert.match(stty, /(^|\s)icanon(\s|;|$)/, stty);
    assert.match(stty, /(^|\s)echo(\s|;|$)/, stty);
  });

  test("the guide's Test 1 with the CLI: testuser01 (ProductionAccess) opens a shell on the Production server and runs commands; the Development server is AccessDenied", { timeout: 60_000 }, async () => {
    const account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
    const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: 'ProductionAccess' });
    const userId = await createPerson(server, 'testuser01');
    await server.root.call(identitystore.CreateGroupMembership, { GroupId, MemberId: { UserId: userId } });
    const setArn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProductionPermissionSet' })).PermissionSet.PermissionSetArn;
    const policy = await readFile(repoFile('examples/guide/policies/production-onprem.json'), 'utf8');
    await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: setArn, InlinePolicy: policy });
    await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: setArn, PrincipalType: 'GROUP', PrincipalId: GroupId });
    await server.root.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId, Tags: [{ Key: 'project', Value: 'Production' }, { Key: 'Name', Value: 'prod-server01' }] });
    // dev-server01: registered, tagged Development (its agent need not run: the policy refuses first).
    const activation = await server.root.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', Tags: [{ Key: 'project', Value: 'Development' }] });
    const devKey = execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519'], { encoding: 'utf8' });
    const devPublic = execFileSync('openssl', ['pkey', '-pubout', '-outform', 'DER'], { input: devKey }).toString('base64');
    const dev = await server.client().call(fleet.RegisterManagedInstance, { ActivationId: activation.ActivationId, ActivationCode: activation.ActivationCode, PublicKey: devPublic, PublicKeyType: 'Ed25519', Fingerprint: 'dev-server01' });
    const person = await signIn(server, 'testuser01');
    const { RoleCredentials } = await person.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' });
    const userEnv = { ...env, AIRLOCK_TOKEN: RoleCredentials.AccessToken, SHELL: '/bin/sh', TERM: 'xterm' };

    const { code, screen } = await inTerminal(`airlock ssm start-session --target ${instanceId}`, userEnv, 'echo "who=$(id -un) on=$(hostname)"; exit\r');
    assert.equal(code, 0, screen);
    assert.match(screen, new RegExp(`who=${SSM_USER} on=`));
    const sessionId = /Starting session with SessionId: (testuser01-[0-9a-f]{17})/.exec(screen)?.[1];
    assert.ok(sessionId !== undefined, screen);

    // Asynchronously: the server runs in this process.
    const denied = await run('airlock', ['ssm', 'start-session', '--target', dev.InstanceId], { env: userEnv, timeout: 20_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (error: unknown) => {
        const failed = error as { code?: number; stderr?: string };
        return { code: failed.code, stderr: failed.stderr ?? '' };
      },
    );
    assert.equal(denied.code, 254, denied.stderr);
    assert.match(denied.stderr, new RegExp(`AccessDeniedException.*managed-instance/${dev.InstanceId}`, 's'));
    const history = await server.root.call(sessions.DescribeSessions, { State: 'History', Filters: [{ key: 'SessionId', value: sessionId }] });
    assert.equal(history.Sessions[0]?.Status, 'Terminated');
  });
});
