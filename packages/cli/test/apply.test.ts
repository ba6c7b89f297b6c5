/**
 * `airlock apply -f setup.yaml` against real servers: the guide's walkthrough applied from
 * examples/guide-walkthrough.yaml, idempotence checked in the audit trail, --dry-run, a changed
 * policy, bad files refused before any call, and the on-premises variant.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identitystore, organizations, portal, ssoAdmin } from '@airlock/protocol';
import { startTestServer, temporaryDirectory, type TestServer } from '@airlock/testkit';
import { airlock, repoFile, type Result } from './helpers.js';

const GUIDE = repoFile('examples/guide-walkthrough.yaml');
const ON_PREMISES = repoFile('examples/guide-walkthrough-on-premises.yaml');
const policyOf = async (name: string): Promise<unknown> => JSON.parse(await readFile(repoFile(`examples/guide/policies/${name}.json`), 'utf8'));

let scratch: { path: string; remove: () => Promise<void> };

before(async () => {
  scratch = await temporaryDirectory();
});
after(async () => {
  await scratch.remove();
});

interface AuditEvent {
  readonly eventName: string;
  readonly readOnly: boolean;
}

/** A server with the root token in a file, and the CLI pointed at it. */
async function setUp(): Promise<{ server: TestServer; apply: (file: string, ...extra: string[]) => Promise<Result>; audit: () => Promise<AuditEvent[]> }> {
  const server = await startTestServer();
  const tokenFile = join(scratch.path, `token-${server.url.replace(/\W/g, '')}`);
  await writeFile(tokenFile, server.rootToken, { mode: 0o600 });
  return {
    server,
    apply: (file, ...extra) => airlock(['apply', '-f', file, '--endpoint-url', server.url, '--token-file', tokenFile, ...extra]),
    audit: async () => {
      const rows = await server.server.services.db.selectFrom('audit_events').select('record').orderBy('seq').execute();
      return rows.map((row) => JSON.parse(row.record) as AuditEvent);
    },
  };
}

const writesOf = (events: readonly AuditEvent[]): string[] => events.filter((event) => !event.readOnly).map((event) => event.eventName);
const changeLines = (stdout: string): string[] => stdout.split('\n').filter((line) => /^[+~] /.test(line));

async function managementAccountId(server: TestServer): Promise<string> {
  const { Accounts } = await server.root.call(organizations.ListAccounts, {});
  const management = Accounts.find((account) => account.Arn.startsWith(`arn:aws:organizations::${account.Id}:`));
  assert.ok(management, 'the organization has a management account');
  return management.Id;
}

async function permissionSetsByName(server: TestServer): Promise<Map<string, string>> {
  const { PermissionSets } = await server.root.call(ssoAdmin.ListPermissionSets, {});
  const result = new Map<string, string>();
  for (const arn of PermissionSets) {
    const { PermissionSet } = await server.root.call(ssoAdmin.DescribePermissionSet, { PermissionSetArn: arn });
    result.set(PermissionSet.Name, arn);
  }
  return result;
}

async function inlinePolicy(server: TestServer, arn: string): Promise<unknown> {
  const { InlinePolicy } = await server.root.call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: arn });
  assert.ok(InlinePolicy !== undefined, 'the permission set has an inline policy');
  return JSON.parse(InlinePolicy);
}

/** A copy of the guide's file and policies in a directory of its own, to edit. */
async function copyOfGuide(name: string): Promise<{ dir: string; file: string }> {
  const dir = join(scratch.path, name);
  await mkdir(join(dir, 'guide', 'policies'), { recursive: true });
  for (const policy of await readdir(repoFile('examples/guide/policies'))) {
    await writeFile(join(dir, 'guide', 'policies', policy), await readFile(repoFile(`examples/guide/policies/${policy}`)));
  }
  const file = join(dir, 'setup.yaml');
  await writeFile(file, await readFile(GUIDE));
  return { dir, file };
}

describe('the guide walkthrough', () => {
  let server: TestServer;
  let apply: (file: string, ...extra: string[]) => Promise<Result>;
  let audit: () => Promise<AuditEvent[]>;

  before(async () => {
    ({ server, apply, audit } = await setUp());
    // Not the guide's choice, so that apply has MFA settings to change.
    await server.root.call(portal.PutMfaSettings, { MfaMode: 'DISABLED', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'ALLOW' });
  });
  after(async () => {
    await server.stop();
  });

  test("applying it creates the guide's groups, users, memberships, permission sets and assignments, and its MFA settings", async () => {
    const result = await apply(GUIDE);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^~ update mfa settings: mode DISABLED → ALWAYS_ON, without a device ALLOW → EMAIL_OTP$/m);
    assert.match(result.stdout, /^\+ create group ProductionAccess$/m);
    assert.match(result.stdout, /^\+ create user testuser01 \(invitation to testuser01@example\.com\)$/m);
    assert.match(result.stdout, /^\+ add user testuser02 to group DevelopmentAccess$/m);
    assert.match(result.stdout, /^\+ create permission set ProductionPermissionSet \(session PT1H, inline policy guide\/policies\/production-ec2\.json, tags Name=ProductionAccess\)$/m);
    assert.match(result.stdout, /^\+ assign permission set DevelopmentPermissionSet to group DevelopmentAccess in account Management \(\d{12}\)$/m);
    assert.match(result.stdout, /^Plan: 10 to create, 1 to update, 0 unchanged\.$/m);
    assert.match(result.stdout, /^created user testuser01 and mailed an invitation to testuser01@example\.com$/m);
    assert.match(result.stdout, /^Applied: 10 created, 1 updated\.$/m);

    const settings = await server.root.call(portal.GetMfaSettings, {});
    assert.equal(settings.MfaMode, 'ALWAYS_ON');
    assert.deepEqual(settings.AllowedMfaTypes, ['AUTHENTICATOR_APP']);
    assert.equal(settings.NoDeviceAction, 'EMAIL_OTP');

    const { Groups } = await server.root.call(identitystore.ListGroups, {});
    const groups = new Map(Groups.map((group) => [group.DisplayName, group]));
    assert.equal(groups.get('ProductionAccess')?.Description, 'This user group can manage all production servers.');
    assert.equal(groups.get('DevelopmentAccess')?.Description, 'This user group can manage all development servers.');

    const { Users } = await server.root.call(identitystore.ListUsers, {});
    assert.deepEqual(
      Users.map((user) => [user.UserName, user.DisplayName, user.Name?.GivenName, user.Name?.FamilyName, user.Emails?.[0]?.Value]),
      [
        ['testuser01', 'Test User01', 'Test', 'User01', 'testuser01@example.com'],
        ['testuser02', 'Test User02', 'Test', 'User02', 'testuser02@example.com'],
      ],
    );
    const outbox = join(server.dataDir, 'outbox');
    const recipients = await Promise.all(
      (await readdir(outbox)).filter((name) => name.endsWith('.eml')).map(async (name) => /^To: (.*)$/m.exec(await readFile(join(outbox, name), 'utf8'))?.[1]?.trim()),
    );
    assert.deepEqual(recipients.sort(), ['testuser01@example.com', 'testuser02@example.com']);

    for (const [userName, groupName] of [['testuser01', 'ProductionAccess'], ['testuser02', 'DevelopmentAccess']] as const) {
      const user = Users.find((candidate) => candidate.UserName === userName);
      assert.ok(user);
      const { GroupMemberships } = await server.root.call(identitystore.ListGroupMembershipsForMember, { MemberId: { UserId: user.UserId } });
      assert.deepEqual(
        GroupMemberships.map((membership) => membership.GroupId),
        [groups.get(groupName)?.GroupId],
      );
    }

    const permissionSets = await permissionSetsByName(server);
    assert.deepEqual([...permissionSets.keys()].sort(), ['DevelopmentPermissionSet', 'ProductionPermissionSet']);
    const accountId = await managementAccountId(server);
    for (const [name, policy, groupName] of [
      ['ProductionPermissionSet', 'production-ec2', 'ProductionAccess'],
      ['DevelopmentPermissionSet', 'development-ec2', 'DevelopmentAccess'],
    ] as const) {
      const arn = permissionSets.get(name);
      assert.ok(arn);
      const { PermissionSet } = await server.root.call(ssoAdmin.DescribePermissionSet, { PermissionSetArn: arn });
      assert.equal(PermissionSet.SessionDuration, 'PT1H');
      assert.match(PermissionSet.Description ?? '', /^Permission set to access Session Manager limited to all instances with project tag = /);
      assert.deepEqual(await inlinePolicy(server, arn), await policyOf(policy));
      const { AccountAssignments } = await server.root.call(ssoAdmin.ListAccountAssignments, { AccountId: accountId, PermissionSetArn: arn });
      assert.deepEqual(
        AccountAssignments.map((assignment) => [assignment.PrincipalType, assignment.PrincipalId]),
        [['GROUP', groups.get(groupName)?.GroupId]],
      );
    }
  });

  test('a second apply plans no changes and makes no write call', async () => {
    const before = (await audit()).length;
    const result = await apply(GUIDE);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(changeLines(result.stdout), []);
    assert.match(result.stdout, /^= permission set ProductionPermissionSet unchanged$/m);
    assert.match(result.stdout, /^No changes: /m);
    const during = (await audit()).slice(before);
    assert.ok(during.length > 0, 'the plan read the current state');
    assert.deepEqual(writesOf(during), []);
    assert.ok(during.every((event) => /^(Describe|Get|List|Is)/.test(event.eventName)));
  });

  test('an edited policy file plans exactly one inline policy update and applies it; a reformatted one plans none', async () => {
    const { dir, file } = await copyOfGuide('edited');
    const policyFile = join(dir, 'guide', 'policies', 'production-ec2.json');
    const edited = (await policyOf('production-ec2')) as { Statement: { Action: string[] }[] };
    edited.Statement[2]?.Action.push('ssm:ResumeSession');
    await writeFile(policyFile, JSON.stringify(edited, null, 4));

    const planned = await apply(file, '--dry-run');
    assert.equal(planned.code, 0, planned.stderr);
    assert.deepEqual(changeLines(planned.stdout), ['~ update permission set ProductionPermissionSet: inline policy']);

    const before = (await audit()).length;
    const result = await apply(file);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(changeLines(result.stdout), ['~ update permission set ProductionPermissionSet: inline policy']);
    assert.match(result.stdout, /^updated permission set ProductionPermissionSet: inline policy$/m);
    assert.deepEqual(writesOf((await audit()).slice(before)), ['PutInlinePolicyToPermissionSet']);
    const arn = (await permissionSetsByName(server)).get('ProductionPermissionSet');
    assert.ok(arn);
    assert.deepEqual(await inlinePolicy(server, arn), edited);

    // The same document with other whitespace and another key order is the same policy.
    const reordered = { Statement: edited.Statement.map((statement) => Object.fromEntries(Object.entries(statement).reverse())), Version: '2012-10-17' };
    await writeFile(policyFile, JSON.stringify(reordered));
    const again = await apply(file);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(changeLines(again.stdout), []);
  });

  describe('a bad file exits 2, names the path of each problem, and calls nothing', () => {
    const cases: { name: string; yaml: (guide: string) => string; policy?: string; expect: RegExp[] }[] = [
      {
        name: 'an unknown key',
        yaml: (guide) => guide.replace('    displayName: Test User01\n', '    displayName: Test User01\n    mail: testuser01@example.org\n'),
        expect: [/setup\.yaml:\d+:\d+: users\[0\]\.mail: unknown key .*the keys of a user are/],
      },
      {
        name: 'a reference to an undefined group',
        yaml: (guide) => guide.replace('groups: [DevelopmentAccess]', 'groups: [DevAccess]').replace('    group: ProductionAccess\n', '    group: ProdAccess\n'),
        expect: [/setup\.yaml:\d+:\d+: users\[1\]\.groups\[0\]: no group "DevAccess" is defined/, /setup\.yaml:\d+:\d+: assignments\[0\]\.group: no group "ProdAccess" is defined/],
      },
      {
        name: 'a missing policy file',
        yaml: (guide) => guide.replace('guide/policies/development-ec2.json', 'guide/policies/missing.json'),
        expect: [/setup\.yaml:\d+:\d+: permissionSets\[1\]\.policyFile: cannot read the policy file guide\/policies\/missing\.json/],
      },
      {
        name: 'a policy with an ERROR finding',
        yaml: (guide) => guide.replace('guide/policies/production-ec2.json', 'guide/policies/broken.json'),
        policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession' }] }),
        expect: [/setup\.yaml:\d+:\d+: permissionSets\[0\]\.policyFile: guide\/policies\/broken\.json: MISSING_RESOURCE/],
      },
    ];
    for (const [index, { name, yaml, policy, expect }] of cases.entries()) {
      test(name, async () => {
        const { dir, file } = await copyOfGuide(`bad-${index}`);
        await writeFile(file, yaml(await readFile(GUIDE, 'utf8')));
        if (policy !== undefined) await writeFile(join(dir, 'guide', 'policies', 'broken.json'), policy);
        const before = (await audit()).length;
        const result = await apply(file);
        assert.equal(result.code, 2, result.stdout + result.stderr);
        assert.match(result.stderr, /has \d+ problems?; nothing was sent to the server\./);
        for (const pattern of expect) assert.match(result.stderr, pattern);
        assert.equal(result.stdout, '');
        assert.equal((await audit()).length, before, 'no call at all reached the server');
      });
    }

    test('several problems are all reported, in the order of the file', async () => {
      const { file } = await copyOfGuide('bad-several');
      const text = (await readFile(GUIDE, 'utf8'))
        .replace('mode: ALWAYS_ON', 'mode: ALWAYS')
        .replace('groups: [ProductionAccess]', 'groups: [ProdAccess]')
        .replace('email: testuser02@example.com', 'email: TestUser01@example.com')
        .replace('sessionDuration: PT1H', 'sessionDuration: PT24H')
        .replace('  - permissionSet: DevelopmentPermissionSet\n', '  - permissionSet: DevPermissionSet\n');
      await writeFile(file, text);
      const result = await apply(file);
      assert.equal(result.code, 2);
      const paths = result.stderr
        .split('\n')
        .slice(1)
        .filter((line) => line !== '')
        .map((line) => line.split(': ')[1]);
      assert.deepEqual(paths, ['mfa.mode', 'users[0].groups[0]', 'users[1].email', 'permissionSets[0].sessionDuration', 'assignments[1].permissionSet']);
    });

    test('an account the organization does not have is reported at its line, after reading only', async () => {
      const { file } = await copyOfGuide('bad-account');
      await writeFile(file, (await readFile(GUIDE, 'utf8')).replace('    account: management\n    group: DevelopmentAccess', "    account: '000000000000'\n    group: DevelopmentAccess"));
      const before = (await audit()).length;
      const result = await apply(file);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /setup\.yaml:\d+:14: assignments\[1\]\.account: the organization has no account "000000000000"; it has Management \(\d{12}\)/);
      assert.deepEqual(writesOf((await audit()).slice(before)), []);
    });
  });

  test('a server refusal exits 254 with the operation named, and what was done stays done', async () => {
    const { file } = await copyOfGuide('refused');
    const text = (await readFile(GUIDE, 'utf8'))
      .replace('groups:\n', 'groups:\n  - name: Auditors\n')
      .replace('permissionSets:\n', 'permissionSets:\n  - name: AuditPermissionSet\n    managedPolicies: [NoSuchPolicy]\n');
    await writeFile(file, text);
    const result = await apply(file);
    assert.equal(result.code, 254);
    assert.match(result.stdout, /^created group Auditors$/m);
    assert.match(result.stderr, /An error occurred \(ResourceNotFoundException\) when calling the AttachManagedPolicyToPermissionSet operation: /);
    assert.match(result.stderr, /applying the file again continues from there/);
  });
});

test('--dry-run prints the plan and makes no write call', async () => {
  const { server, apply, audit } = await setUp();
  try {
    const result = await apply(GUIDE, '--dry-run');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(changeLines(result.stdout).length, 10);
    assert.match(result.stdout, /^= mfa settings unchanged$/m);
    assert.match(result.stdout, /^Plan: 10 to create, 0 to update, 1 unchanged\.$/m);
    assert.match(result.stdout, /^Dry run: nothing was changed\.$/m);
    assert.deepEqual(writesOf(await audit()), []);
    assert.deepEqual((await server.root.call(identitystore.ListGroups, {})).Groups, []);
  } finally {
    await server.stop();
  }
});

test('changed fields are updated in place, new memberships added, and what the file leaves out stays', async () => {
  const { server, apply, audit } = await setUp();
  try {
    assert.equal((await apply(GUIDE)).code, 0);
    const { file } = await copyOfGuide('changed');
    const text = (await readFile(GUIDE, 'utf8'))
      .replace('This user group can manage all development servers.', 'Developers.')
      .replace('    displayName: Test User02\n', '    displayName: Tess User02\n    attributes: { SSMSessionRunAs: ec2-user }\n')
      .replace(/(name: DevelopmentPermissionSet\n.*\n) {4}sessionDuration: PT1H/, '$1    sessionDuration: PT2H')
      // testuser01 is no longer mentioned, and the Production assignment neither: both stay.
      .replace(/ {2}- userName: testuser01\n( {4}.*\n)+/, '')
      .replace(/ {2}- permissionSet: ProductionPermissionSet\n( {4}.*\n)+/, '');
    await writeFile(file, text);
    const before = (await audit()).length;
    const result = await apply(file);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(changeLines(result.stdout), [
      '~ update group DevelopmentAccess: description',
      '~ update user testuser02: display name, attribute SSMSessionRunAs',
      '~ update permission set DevelopmentPermissionSet: session duration PT1H → PT2H',
    ]);
    assert.deepEqual(writesOf((await audit()).slice(before)), ['UpdateGroup', 'UpdateUser', 'UpdatePermissionSet']);
    const { Users } = await server.root.call(identitystore.ListUsers, {});
    assert.deepEqual(
      Users.map((user) => [user.UserName, user.DisplayName, user.Attributes]),
      [
        ['testuser01', 'Test User01', undefined],
        ['testuser02', 'Tess User02', { SSMSessionRunAs: 'ec2-user' }],
      ],
    );
    const accountId = await managementAccountId(server);
    const production = (await permissionSetsByName(server)).get('ProductionPermissionSet');
    assert.ok(production);
    assert.equal((await server.root.call(ssoAdmin.ListAccountAssignments, { AccountId: accountId, PermissionSetArn: production })).AccountAssignments.length, 1);

    // A membership the file adds for a user the server has.
    await writeFile(file, text.replace('groups: [DevelopmentAccess]', 'groups: [DevelopmentAccess, ProductionAccess]'));
    const added = await apply(file);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(changeLines(added.stdout), ['+ add user testuser02 to group ProductionAccess']);
  } finally {
    await server.stop();
  }
});

test('the on-premises walkthrough applies, with policies that allow managed instances', async () => {
  const { server, apply } = await setUp();
  try {
    const result = await apply(ON_PREMISES);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /inline policy guide\/policies\/production-onprem\.json/);
    const permissionSets = await permissionSetsByName(server);
    for (const [name, policy] of [
      ['ProductionPermissionSet', 'production-onprem'],
      ['DevelopmentPermissionSet', 'development-onprem'],
    ] as const) {
      const arn = permissionSets.get(name);
      assert.ok(arn);
      const document = await inlinePolicy(server, arn);
      assert.deepEqual(document, await policyOf(policy));
      assert.match(JSON.stringify(document), /arn:aws:ssm:\*:\*:managed-instance\/\*/);
    }
    const again = await apply(ON_PREMISES);
    assert.match(again.stdout, /^No changes: /m);
  } finally {
    await server.stop();
  }
});

test('usage: --file is required, -f and --file are the same, and a bad token is the server refusing', async () => {
  const missing = await airlock(['apply']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--file is required/);
  const help = await airlock(['apply', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--dry-run/);
  const { server } = await setUp();
  try {
    const tokenFile = join(scratch.path, 'wrong-token');
    await writeFile(tokenFile, 'not-a-token');
    const refused = await airlock(['apply', '--file', GUIDE, '--endpoint-url', server.url, '--token-file', tokenFile]);
    assert.equal(refused.code, 254);
    assert.match(refused.stderr, /An error occurred \(\w+\) when calling the GetMfaSettings operation/);
  } finally {
    await server.stop();
  }
});
