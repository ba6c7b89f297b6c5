/**
 * After `airlock login`, commands decided by policy run in a role session: the user's only
 * permission set, or the one a profile names (airlock configure sso).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { identitystore, organizations, ssoAdmin } from '@airlock/protocol';
import { createPerson, signInToken, startTestServer, temporaryDirectory, type TestServer } from '@airlock/testkit';
import { airlock, repoFile } from './helpers.js';

let server: TestServer;
let config: { path: string; remove: () => Promise<void> };
let account: string;
let userId: string;

async function permissionSet(name: string, managed: string): Promise<void> {
  const arn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: name })).PermissionSet.PermissionSetArn;
  await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: arn, ManagedPolicyArn: `arn:aws:iam::aws:policy/${managed}` });
  await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: userId });
}

before(async () => {
  server = await startTestServer();
  config = await temporaryDirectory();
  process.env['AIRLOCK_CONFIG_DIR'] = config.path;
  account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
  userId = await createPerson(server, 'profiled');
  // What airlock login leaves behind (the login test covers making it).
  const credentials = { [server.url]: { accessToken: await signInToken(server, 'profiled'), expiresAt: Date.now() + 3600_000 } };
  await writeFile(`${config.path}/credentials.json`, JSON.stringify(credentials), { mode: 0o600 });
});
after(async () => {
  delete process.env['AIRLOCK_CONFIG_DIR'];
  await server.stop();
  await config.remove();
});

test('with one permission set, a policy-decided command runs in it without any choice', async () => {
  await permissionSet('Readers', 'ReadOnlyAccess');
  const list = await airlock(['identitystore', 'list-users', '--endpoint-url', server.url]);
  assert.equal(list.code, 0, list.stderr);
  assert.ok((JSON.parse(list.stdout) as { Users: unknown[] }).Users.length >= 1);
  const create = await airlock(['identitystore', 'create-user', '--user-name', 'nope', '--endpoint-url', server.url]);
  assert.equal(create.code, 254);
  assert.match(create.stderr, /AccessDeniedException.*assumed-role\/AWSReservedSSO_Readers_[0-9a-f]{16}\/profiled/);
  const cached = JSON.parse(await readFile(`${config.path}/credentials.json`, 'utf8')) as Record<string, unknown>;
  assert.ok(Object.keys(cached).some((key) => key === `${server.url}#${account}#Readers`), 'the role session is cached');
});

test('with several, the CLI asks for a profile, and the profile decides', async () => {
  await permissionSet('Admins', 'AdministratorAccess');
  const ambiguous = await airlock(['identitystore', 'create-user', '--user-name', 'maybe', '--endpoint-url', server.url]);
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /several permission sets .*Admins.*Readers|several permission sets .*Readers.*Admins/);
  const saved = await airlock(['configure', 'sso', '--profile', 'admin', '--account-id', account, '--role-name', 'Admins', '--endpoint-url', server.url]);
  assert.equal(saved.code, 0, saved.stderr);
  const created = await airlock(['identitystore', 'create-user', '--user-name', 'made-with-profile', '--password-setup', 'NONE', '--profile', 'admin']);
  assert.equal(created.code, 0, created.stderr);
  const found = await server.root.call(identitystore.GetUserId, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'UserName', AttributeValue: 'made-with-profile' } } });
  assert.match(found.UserId, /^[0-9a-f-]{36}$/);
});

test('airlock apply runs in the profile\'s role session, as the API commands do', async () => {
  const planned = await airlock(['apply', '-f', repoFile('examples/guide-walkthrough.yaml'), '--dry-run', '--profile', 'admin']);
  assert.equal(planned.code, 0, planned.stderr);
  assert.match(planned.stdout, /ProductionAccess/);
});

test('airlock logout forgets the portal token and the role sessions cached from it', async () => {
  const out = await airlock(['logout', '--endpoint-url', server.url]);
  assert.equal(out.code, 0, out.stderr);
  const cached = JSON.parse(await readFile(`${config.path}/credentials.json`, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(cached).filter((key) => key.startsWith(server.url)), []);
});
