/**
 * Who may do what in the log store, on both backends: the guide's recording policy
 * (SessionManagerLogPolicy's logs statements, on log-group ARNs) allows exactly what recording
 * needs in its log group and nothing in another; a tag condition decides by the group's tags;
 * log groups belong to the caller's account.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { logs, organizations, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, createPerson, roleSession, signIn, startTestServer, type TestServer } from '@airlock/testkit';

const GROUP = 'SessionManagerLogGroup';

/** The guide's SessionManagerLogPolicy, its logs statements as printed, for this region and account. */
const recordingPolicy = (region: string, account: string) => ({
  Version: '2012-10-17',
  Statement: [
    { Sid: 'describeLogGroups', Effect: 'Allow', Action: ['logs:DescribeLogGroups'], Resource: [`arn:aws:logs:${region}:${account}:log-group:*`] },
    { Sid: 'describeLogStreams', Effect: 'Allow', Action: ['logs:DescribeLogStreams'], Resource: [`arn:aws:logs:${region}:${account}:log-group:*:log-stream:*`] },
    { Sid: 'createLogStream', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutRetentionPolicy'], Resource: [`arn:aws:logs:${region}:${account}:log-group:${GROUP}:*`] },
    { Sid: 'putEvents', Effect: 'Allow', Action: ['logs:PutLogEvents', 'logs:GetLogEvents'], Resource: [`arn:aws:logs:${region}:${account}:log-group:${GROUP}:log-stream:*`] },
  ],
});

/** Reads any group tagged team=ops. */
const TEAM_READER = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['logs:GetLogEvents', 'logs:FilterLogEvents', 'logs:DescribeLogStreams'],
      Resource: 'arn:aws:logs:*:*:log-group:*',
      Condition: { StringEquals: { 'aws:ResourceTag/team': 'ops' } },
    },
  ],
};

async function denied(promise: Promise<unknown>, action: string, resource: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: string }).code, 'AccessDeniedException', String(error));
    const { message } = error as Error;
    assert.ok(message.includes(action), message);
    assert.ok(message.includes(`on resource: ${resource} `), message);
    return true;
  });
}

for (const backend of BACKENDS) {
  describe(`log store access on ${backend}`, () => {
    let server: TestServer;
    let region: string;
    let management: string;
    let sandbox: string;
    let recorder: AirlockClient;
    let reader: AirlockClient;
    let sandboxAdmin: AirlockClient;
    const arn = (group: string, stream = ''): string => `arn:aws:logs:${region}:${management}:log-group:${group}:log-stream:${stream}`;

    async function grant(userId: string, account: string, name: string, policy: object): Promise<void> {
      const { PermissionSetArn } = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: name })).PermissionSet;
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn, InlinePolicy: JSON.stringify(policy) });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn, PrincipalType: 'USER', PrincipalId: userId });
    }

    before(async () => {
      server = await startTestServer({ backend });
      region = server.server.services.config.region;
      management = server.server.services.accountId;
      sandbox = (await server.root.call(organizations.CreateAccount, { AccountName: 'Sandbox', Email: 'sandbox@example.com' })).CreateAccountStatus.AccountId;
      const userId = await createPerson(server, 'auditor');
      await grant(userId, management, 'SessionManagerLogging', recordingPolicy(region, management));
      await grant(userId, management, 'TeamReader', TEAM_READER);
      await grant(userId, sandbox, 'SandboxAdmin', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'logs:*', Resource: '*' }] });
      const person = await signIn(server, 'auditor');
      recorder = await roleSession(server, person, management, 'SessionManagerLogging');
      reader = await roleSession(server, person, management, 'TeamReader');
      sandboxAdmin = await roleSession(server, person, sandbox, 'SandboxAdmin');
      await server.root.call(logs.CreateLogGroup, { logGroupName: GROUP, tags: { team: 'ops' } });
      await server.root.call(logs.CreateLogGroup, { logGroupName: 'OtherGroup' });
    });
    after(async () => {
      await server.stop();
    });

    test("the guide's recording policy allows what recording does in its log group", async () => {
      const { logGroups } = await recorder.call(logs.DescribeLogGroups, {});
      assert.deepEqual(logGroups.map((group) => group.logGroupName), ['OtherGroup', GROUP]);
      await recorder.call(logs.CreateLogStream, { logGroupName: GROUP, logStreamName: 'auditor-0123456789abcdef0' });
      await recorder.call(logs.PutRetentionPolicy, { logGroupName: GROUP, retentionInDays: 90 });
      const now = server.clock.now();
      await recorder.call(logs.PutLogEvents, { logGroupName: GROUP, logStreamName: 'auditor-0123456789abcdef0', logEvents: [{ timestamp: now, message: 'sudo systemctl status nginx' }] });
      const { events } = await recorder.call(logs.GetLogEvents, { logGroupName: GROUP, logStreamName: 'auditor-0123456789abcdef0' });
      assert.deepEqual(events.map((event) => event.message), ['sudo systemctl status nginx']);
      const { logStreams } = await recorder.call(logs.DescribeLogStreams, { logGroupName: GROUP });
      assert.deepEqual(logStreams.map((item) => item.logStreamName), ['auditor-0123456789abcdef0']);
      // DescribeLogStreams is granted on every group's streams.
      await recorder.call(logs.DescribeLogStreams, { logGroupName: 'OtherGroup' });
    });

    test('…and nothing in another group, nor what it does not name, each refusal naming the ARN AWS checks', async () => {
      await denied(recorder.call(logs.CreateLogStream, { logGroupName: 'OtherGroup', logStreamName: 's' }), 'logs:CreateLogStream', arn('OtherGroup', 's'));
      await denied(recorder.call(logs.PutRetentionPolicy, { logGroupName: 'OtherGroup', retentionInDays: 1 }), 'logs:PutRetentionPolicy', arn('OtherGroup'));
      await denied(
        recorder.call(logs.PutLogEvents, { logGroupName: 'OtherGroup', logStreamName: 's', logEvents: [{ timestamp: server.clock.now(), message: 'x' }] }),
        'logs:PutLogEvents',
        arn('OtherGroup', 's'),
      );
      await denied(recorder.call(logs.GetLogEvents, { logGroupName: 'OtherGroup', logStreamName: 's' }), 'logs:GetLogEvents', arn('OtherGroup', 's'));
      await denied(recorder.call(logs.FilterLogEvents, { logGroupName: GROUP }), 'logs:FilterLogEvents', arn(GROUP));
      await denied(recorder.call(logs.DeleteLogGroup, { logGroupName: GROUP }), 'logs:DeleteLogGroup', arn(GROUP));
      await denied(recorder.call(logs.CreateLogGroup, { logGroupName: 'NewGroup' }), 'logs:CreateLogGroup', arn('NewGroup'));
      await denied(recorder.call(logs.DeleteRetentionPolicy, { logGroupName: GROUP }), 'logs:DeleteRetentionPolicy', arn(GROUP));
      await denied(recorder.call(logs.DeleteLogStream, { logGroupName: GROUP, logStreamName: 'auditor-0123456789abcdef0' }), 'logs:DeleteLogStream', arn(GROUP, 'auditor-0123456789abcdef0'));
      // A group that does not exist is refused the same way: the refusal does not tell.
      await denied(recorder.call(logs.GetLogEvents, { logGroupName: 'Missing', logStreamName: 's' }), 'logs:GetLogEvents', arn('Missing', 's'));
      await denied(reader.call(logs.DescribeLogGroups, {}), 'logs:DescribeLogGroups', arn(''));
    });

    test("a tag condition decides by the log group's tags", async () => {
      const { events } = await reader.call(logs.FilterLogEvents, { logGroupName: GROUP, filterPattern: 'systemctl' });
      assert.equal(events.length, 1);
      await reader.call(logs.GetLogEvents, { logGroupName: GROUP, logStreamName: 'auditor-0123456789abcdef0' });
      await denied(reader.call(logs.FilterLogEvents, { logGroupName: 'OtherGroup' }), 'logs:FilterLogEvents', arn('OtherGroup'));
      await denied(reader.call(logs.DescribeLogStreams, { logGroupIdentifier: `arn:aws:logs:${region}:${management}:log-group:OtherGroup` }), 'logs:DescribeLogStreams', arn('OtherGroup'));
    });

    test("log groups belong to the caller's account: another account neither sees nor reads them", async () => {
      assert.deepEqual((await sandboxAdmin.call(logs.DescribeLogGroups, {})).logGroups, []);
      await assert.rejects(sandboxAdmin.call(logs.GetLogEvents, { logGroupName: GROUP, logStreamName: 'auditor-0123456789abcdef0' }), { code: 'ResourceNotFoundException' });
      await sandboxAdmin.call(logs.CreateLogGroup, { logGroupName: GROUP });
      const mine = await sandboxAdmin.call(logs.DescribeLogGroups, {});
      assert.deepEqual(mine.logGroups.map((group) => group.logGroupArn), [`arn:aws:logs:${region}:${sandbox}:log-group:${GROUP}`]);
      assert.equal((await sandboxAdmin.call(logs.DescribeLogStreams, { logGroupName: GROUP })).logStreams.length, 0);
    });
  });
}
