/**
 * The guide's Test 3 with everything real: the server records to a real S3-protocol server
 * (s3rver, run by the test) and its log store; two real agents stand for prod-server01
 * (project=Production) and dev-server01 (project=Development); testuser01 (ProductionAccess)
 * and testuser02 (DevelopmentAccess) each open a shell with the CLI in a terminal (script(1)),
 * as the guide's Test 1 and Test 2 do, and type commands. Then, as the guide checks: the log
 * group SessionManagerLogGroup lists one stream per session with the typed commands and their
 * outputs, and the bucket holds both objects of each session, read with @aws-sdk/client-s3;
 * `asciinema cat` plays each `.cast`; `airlock audit verify --session` checks both copies
 * against the record, reading the bucket over S3, and names an edited object's line.
 * Needs root (the agents make their ssm-user) and asciinema: CI installs it.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { documents, identitystore, organizations, roleSessions, ssoAdmin } from '@airlock/protocol';
import { createPerson, signIn, startS3Server, startTestServer, temporaryDirectory, type TestS3Server, type TestServer } from '@airlock/testkit';
import { cliEnvironment, inTerminal, repoFile } from './helpers.js';
import { startRealAgent, type RealAgent } from '@airlock/testkit/real-agent';

const run = promisify(execFile);
const SSM_USER = `airlock-r${randomBytes(3).toString('hex')}`;
const BUCKET = 'session-manager-logs';
const GROUP = 'SessionManagerLogGroup';

interface Typed {
  readonly sessionId: string;
  readonly screen: string;
}

describe("the guide's Test 3: every session in the log group and in the S3 bucket", () => {
  let s3: TestS3Server;
  let s3Client: S3Client;
  let server: TestServer;
  let dir: { path: string; remove: () => Promise<void> };
  const agents: RealAgent[] = [];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    s3 = await startS3Server();
    s3Client = s3.client();
    await s3.createBucket(BUCKET, { encryption: 'AES256' });
    server = await startTestServer({ flags: s3.flags });
    dir = await temporaryDirectory();
    env = { ...cliEnvironment(server, dir.path), SHELL: '/bin/sh', TERM: 'xterm' };
    // The guide's "Enable Session Manager logging": both destinations, encryption on, streaming.
    const preferences = {
      schemaVersion: '1.0',
      description: 'Document to hold regional settings for Session Manager',
      sessionType: 'Standard_Stream',
      inputs: { s3BucketName: BUCKET, s3KeyPrefix: '', s3EncryptionEnabled: true, cloudWatchLogGroupName: GROUP, cloudWatchEncryptionEnabled: false, cloudWatchStreamingEnabled: true },
    };
    await server.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: JSON.stringify(preferences), DocumentType: 'Session' });
  });

  after(async () => {
    for (const agent of agents) await agent.stop();
    await server.stop();
    s3Client.destroy();
    await s3.close();
    await dir.remove();
    spawnSync('userdel', ['-r', SSM_USER], { stdio: 'ignore' });
  });

  /** A server of the guide: a real agent registered with the guide's tags. */
  async function guideServer(name: string, project: string): Promise<string> {
    const agent = await startRealAgent(server, { stateDir: `${dir.path}/${name}`, ssmUser: SSM_USER, sudoersFile: `${dir.path}/${name}-sudoers`, tags: [{ Key: 'project', Value: project }, { Key: 'Name', Value: name }] });
    agents.push(agent);
    return agent.instanceId;
  }

  /** The guide's group, permission set with its on-premises policy, assignment and user; answers the user's role token. */
  async function guideUser(userName: string, group: string, permissionSet: string, policyFile: string): Promise<string> {
    const account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
    const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: group });
    const userId = await createPerson(server, userName);
    await server.root.call(identitystore.CreateGroupMembership, { GroupId, MemberId: { UserId: userId } });
    const setArn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: permissionSet })).PermissionSet.PermissionSetArn;
    await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: setArn, InlinePolicy: await readFile(repoFile(`examples/guide/policies/${policyFile}`), 'utf8') });
    await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: setArn, PrincipalType: 'GROUP', PrincipalId: GroupId });
    const person = await signIn(server, userName);
    const { RoleCredentials } = await person.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: permissionSet });
    return RoleCredentials.AccessToken;
  }

  /** `airlock ssm start-session` in a terminal, the line typed, the shell's exit awaited. */
  async function typeInSession(token: string, target: string, line: string): Promise<Typed> {
    const { code, screen } = await inTerminal(`airlock ssm start-session --target ${target}`, { ...env, AIRLOCK_TOKEN: token }, `${line}; exit\r`);
    assert.equal(code, 0, screen);
    const sessionId = /Starting session with SessionId: (\S+)/.exec(screen)?.[1];
    assert.ok(sessionId !== undefined, screen);
    return { sessionId, screen };
  }

  async function airlock(args: readonly string[]): Promise<unknown> {
    const { stdout } = await run('airlock', [...args], { env, timeout: 20_000 });
    return JSON.parse(stdout) as unknown;
  }

  async function objectText(key: string): Promise<string> {
    const object = await s3Client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  test('one stream per session with the typed commands and their outputs; .log and .cast per session in the bucket, each .cast plays', { timeout: 90_000 }, async () => {
    const prod = await guideServer('prod-server01', 'Production');
    const dev = await guideServer('dev-server01', 'Development');
    const testuser01 = await guideUser('testuser01', 'ProductionAccess', 'ProductionPermissionSet', 'production-onprem.json');
    const testuser02 = await guideUser('testuser02', 'DevelopmentAccess', 'DevelopmentPermissionSet', 'development-onprem.json');
    // $((6*7)) is typed; 42 only appears in the output.
    const test1 = await typeInSession(testuser01, prod, 'echo "test1 who=$(id -un) answer=$((6*7))"');
    const test2 = await typeInSession(testuser02, dev, 'echo "test2 who=$(id -un) answer=$((7*8))"');
    assert.match(test1.sessionId, /^testuser01-[0-9a-f]{17}$/);
    assert.match(test2.sessionId, /^testuser02-[0-9a-f]{17}$/);
    const sessions = [
      { ...test1, typed: 'echo "test1 who=$(id -un) answer=$((6*7))"; exit', output: `test1 who=${SSM_USER} answer=42` },
      { ...test2, typed: 'echo "test2 who=$(id -un) answer=$((7*8))"; exit', output: `test2 who=${SSM_USER} answer=56` },
    ];

    // CloudWatch console, Log groups, SessionManagerLogGroup: a stream per session with its keystrokes and output.
    for (const session of sessions) {
      // The session's end streams the last events; the CLI may exit first.
      let messages: { sessionId: string; input?: string; output?: string; exitStatus?: number }[] = [];
      for (let attempt = 0; attempt < 50 && !messages.some((message) => message.exitStatus !== undefined); attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
        const { events } = (await airlock(['logs', 'get-log-events', '--log-group-name', GROUP, '--log-stream-name', session.sessionId, '--start-from-head'])) as { events: { message: string }[] };
        messages = events.map((event) => JSON.parse(event.message) as (typeof messages)[number]);
      }
      assert.ok(messages.every((message) => message.sessionId === session.sessionId));
      assert.equal(messages.at(-1)?.exitStatus, 0);
      const input = messages.map((message) => message.input ?? '').join('');
      const output = messages.map((message) => message.output ?? '').join('');
      assert.ok(input.includes(session.typed), `every keystroke: ${JSON.stringify(input)}`);
      assert.ok(output.includes(session.output), `the command's output: ${JSON.stringify(output)}`);
    }

    // ... and only those two streams, one per test.
    const streams = (await airlock(['logs', 'describe-log-streams', '--log-group-name', GROUP])) as { logStreams: { logStreamName: string }[] };
    assert.deepEqual(streams.logStreams.map((stream) => stream.logStreamName).sort(), [test1.sessionId, test2.sessionId].sort());

    // S3 console, the bucket: each session's transcript and recording, once the outbox has uploaded them.
    const want = sessions.flatMap((session) => [`${session.sessionId}.cast`, `${session.sessionId}.log`]).sort();
    let keys: string[] = [];
    for (let attempt = 0; attempt < 200 && keys.length < want.length; attempt++) {
      keys = ((await s3Client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((object) => object.Key ?? '').sort();
      if (keys.length < want.length) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(keys, want);
    for (const session of sessions) {
      const log = await objectText(`${session.sessionId}.log`);
      assert.ok(log.includes(`${session.output}\n`), log);
      assert.ok(!log.includes('\u001b'), 'the transcript reads without escape sequences');
      const castFile = `${dir.path}/${session.sessionId}.cast`;
      await writeFile(castFile, await objectText(`${session.sessionId}.cast`));
      // asciinema cat reads keys from /dev/tty (to stop on ^C): it gets a terminal from script(1).
      const played = await run('script', ['-qec', `asciinema cat ${castFile}`, '/dev/null'], { env: { ...env, ASCIINEMA_CONFIG_HOME: `${dir.path}/asciinema` }, timeout: 20_000 });
      assert.ok(played.stdout.includes(session.output), played.stdout);
    }
    assert.ok(s3.uploadsOf(BUCKET, `${test1.sessionId}.cast`).length >= 1, 'uploaded through the S3 protocol');

    // audit verify --session reads both copies (the bucket over S3) and finds them as recorded; an edited object is named by its line.
    const verify = ['audit', 'verify', '--session', test1.sessionId, '--data-dir', server.dataDir, ...Object.entries(s3.flags).flatMap(([name, value]) => [`--${name}`, value])];
    const good = await run('airlock', verify, { env, timeout: 20_000 });
    assert.match(good.stdout, new RegExp(`^verified session ${test1.sessionId}: .* log events match; objects ${BUCKET}/${test1.sessionId}\\.log, ${BUCKET}/${test1.sessionId}\\.cast match`));
    const log = await objectText(`${test1.sessionId}.log`);
    await s3Client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${test1.sessionId}.log`, Body: log.replace('answer=42', 'answer=41'), ContentType: 'text/plain' }));
    const line = log.split('\n').findIndex((text) => text.includes('answer=42')) + 1;
    const bad = await run('airlock', verify, { env, timeout: 20_000 }).then(
      () => ({ code: 0, stdout: '' }),
      (error: unknown) => error as { code: number; stdout: string },
    );
    assert.equal(bad.code, 1, bad.stdout);
    assert.match(bad.stdout, new RegExp(`object s3://${BUCKET}/${test1.sessionId}\\.log differs from the record from line ${line}`));
  });
});
