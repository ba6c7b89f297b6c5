/**
 * The console's administration pages in a real browser (Debian's chromium) against a real server,
 * as admin01 in a role session of a permission set with AdministratorAccess: creating a user
 * with an invitation (the mail is in the outbox), groups, a permission set whose policy editor
 * shows a finding for a bad policy and whose simulator allows and denies with the reason, an
 * assignment, an activation whose code is shown once (and registers a server through the API, as
 * the agent would), session preferences and MFA settings read back through the API, instance
 * tags and an event rule; and viewer01, whose permission set allows none of it, is told so in
 * plain words. axe-core checks every page; no page logs an error (a CSP violation is one).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { documents, events, fleet, identitystore, portal, roleSessions, ssoAdmin } from '@airlock/protocol';
import { accessibilityViolations, createPerson, launchBrowser, mailedTo, openPage, screenshot, startTestServer, TEST_PASSWORD, type TestPage, type TestServer } from '@airlock/testkit';
import type { Browser, Page } from 'playwright-core';

const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });

/** axe finds nothing, the page logged no error, and a screenshot is kept. */
async function checkPage(test: TestPage, name: string): Promise<void> {
  assert.deepEqual(await accessibilityViolations(test.page), [], `accessibility of ${name}`);
  assert.deepEqual(test.problems, [], `errors logged by ${name}`);
  await screenshot(test.page, `admin-${name}`);
}

/** Registers a server with an activation through the API, as airlock-agent register does. */
async function register(server: TestServer, activationId: string, code: string, host: string): Promise<string> {
  const { publicKey } = generateKeyPairSync('ed25519');
  const key = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const { InstanceId } = await server.client().call(fleet.RegisterManagedInstance, { ActivationId: activationId, ActivationCode: code, PublicKey: key, PublicKeyType: 'Ed25519', Fingerprint: host });
  return InstanceId;
}

describe('the console: administration', () => {
  let server: TestServer;
  let browser: Browser;
  let admin: TestPage;
  let accountId: string;
  let prodInstance = '';
  let devInstance = '';

  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    accountId = (await server.root.call(roleSessions.GetCallerIdentity, {})).Account;
    for (const [userName, setName] of [
      ['admin01', 'AdminPermissionSet'],
      ['viewer01', 'ViewerPermissionSet'],
    ] as const) {
      const userId = await createPerson(server, userName);
      const arn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: setName })).PermissionSet.PermissionSetArn;
      if (setName === 'AdminPermissionSet') await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: arn, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
      else await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: arn, InlinePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:DescribeSessions', Resource: '*' }] }) });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: userId });
    }
    for (const [name, project] of [
      ['prod-server01', 'Production'],
      ['dev-server01', 'Development'],
    ] as const) {
      const activation = await server.root.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', DefaultInstanceName: name, Tags: [{ Key: 'project', Value: project }] });
      const id = await register(server, activation.ActivationId, activation.ActivationCode, name);
      if (project === 'Production') prodInstance = id;
      else devInstance = id;
    }
    admin = await openPage(browser);
  });

  after(async () => {
    await browser.close();
    await server.stop();
  });

  async function openConsole(person: TestPage, userName: string, permissionSet: string): Promise<void> {
    const { page } = person;
    await page.goto(`${server.url}/portal/sign-in`);
    await page.getByLabel('User name').fill(userName);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const codeField = page.getByLabel('Code from the email');
    await codeField.waitFor();
    await codeField.fill(mailedTo(server, `${userName}@example.com`, 'code'));
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'Accounts').waitFor();
    await page.getByRole('button', { name: new RegExp(accountId) }).click();
    await page.getByRole('button', { name: `Management console as ${permissionSet}` }).click();
    await heading(page, 'Console home').waitFor();
  }

  async function goTo(section: string): Promise<void> {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Administration' }).click();
    await heading(page, 'Administration').waitFor();
    await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: section, exact: true }).click();
    await heading(page, section).waitFor();
  }

  test('admin01 opens the console as AdminPermissionSet; Administration lists its pages', async () => {
    await openConsole(admin, 'admin01', 'AdminPermissionSet');
    await admin.page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Administration' }).click();
    await heading(admin.page, 'Administration').waitFor();
    await admin.page.getByText('Permission sets: Policies with live validation and a simulator').waitFor();
    await checkPage(admin, 'home');
  });

  test('Users: testuser01 is created with an invitation, which is in the outbox; search finds them; a reset link is mailed', async () => {
    const { page } = admin;
    await goTo('Users');
    const form = page.getByRole('form', { name: 'Create a user' });
    await form.getByLabel('User name').fill('testuser01');
    await form.getByLabel('Given name').fill('Test');
    await form.getByLabel('Family name').fill('User');
    await form.getByLabel('Email').fill('testuser01@example.com');
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').getByText('testuser01 was created. An invitation to set a password went to testuser01@example.com').waitFor();
    assert.match(mailedTo(server, 'testuser01@example.com', 'link'), /\/portal\/accept-invitation\?token=/);
    const outbox = `${server.dataDir}/outbox`;
    const mails = readdirSync(outbox).map((file) => readFileSync(`${outbox}/${file}`, 'utf8'));
    assert.ok(mails.some((mail) => /^To: .*testuser01@example\.com/m.test(mail)), 'the invitation is in the outbox');

    await page.getByLabel('Search users').fill('testuser');
    await page.getByText('1 of 3 users').waitFor();
    await page.getByRole('button', { name: 'testuser01' }).click();
    await page.getByRole('heading', { level: 2, name: 'testuser01' }).waitFor();
    await page.getByText('No MFA device').waitFor();
    await checkPage(admin, 'users');
    await page.getByRole('button', { name: 'Mail testuser01 a password reset link' }).click();
    await page.getByRole('status').getByText(/A link to choose a new password went to testuser01@example\.com/).waitFor();
    assert.match(mailedTo(server, 'testuser01@example.com', 'link'), /\/portal\/reset-password\?token=/);
  });

  test('Groups: ProductionAccess is created and testuser01 added to it', async () => {
    const { page } = admin;
    await goTo('Groups');
    await page.getByRole('form', { name: 'Create a group' }).getByLabel('Group name').fill('ProductionAccess');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { level: 2, name: 'ProductionAccess' }).waitFor();
    await page.getByLabel('User to add').selectOption({ label: 'testuser01' });
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('button', { name: 'Remove testuser01 from ProductionAccess' }).waitFor();
    await checkPage(admin, 'groups');
    const group = (await server.root.call(identitystore.ListGroups, {})).Groups.find((entry) => entry.DisplayName === 'ProductionAccess');
    assert.ok(group !== undefined);
    assert.equal((await server.root.call(identitystore.ListGroupMemberships, { GroupId: group.GroupId })).GroupMemberships.length, 1);

    // A group made and deleted: the page says so, and no longer that it was created.
    await page.getByRole('form', { name: 'Create a group' }).getByLabel('Group name').fill('ScratchGroup');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('status').getByText('Group ScratchGroup was created.').waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete group ScratchGroup' }).click();
    await page.getByRole('status').getByText('Group ScratchGroup was deleted.').waitFor();
    assert.equal(await page.getByText('Group ScratchGroup was created.').count(), 0);
  });

  test('Permission sets: a bad policy shows its finding; the simulator allows prod and denies dev with the reason; the policy is saved and assigned', async () => {
    const { page } = admin;
    await goTo('Permission sets');
    // A refusal names the box to fix as the form labels it.
    await page.getByLabel('Permission set name').fill('Bad Name');
    await page.getByRole('button', { name: 'Create permission set' }).click();
    await page.getByRole('alert').getByText(/Permission set name must match .*no spaces\)\./).waitFor();
    await page.getByLabel('Permission set name').fill('ProductionPermissionSet');
    await page.getByRole('button', { name: 'Create permission set' }).click();
    await page.getByRole('heading', { level: 2, name: 'ProductionPermissionSet' }).waitFor();
    const editor = page.getByLabel('Policy (JSON)');
    await editor.waitFor();
    // A new set has no inline policy, and the editor says so rather than showing an example as if stored.
    await page.getByText('ProductionPermissionSet has no inline policy').waitFor();
    assert.equal(await editor.inputValue(), '');
    assert.equal(await page.getByRole('button', { name: 'Save policy' }).isDisabled(), true);
    await page.getByRole('button', { name: 'Start from an example' }).click();
    assert.match(await editor.inputValue(), /ssm:resourceTag\/project/);
    const bad = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'allow', Action: 'ssm:StartSession', Resource: '*' }] }, null, 2);
    await editor.fill(bad);
    await page.getByText(/Error INVALID_EFFECT at Statement\[0\]\.Effect/).waitFor();
    await checkPage(admin, 'permission-set-finding');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').getByText(/The inline policy is not valid \(1 error\): INVALID_EFFECT at Statement\[0\]\.Effect/).waitFor();

    const good = JSON.stringify(
      { Version: '2012-10-17', Statement: [{ Sid: 'ProductionShells', Effect: 'Allow', Action: 'ssm:StartSession', Resource: 'arn:aws:ssm:*:*:managed-instance/*', Condition: { StringEquals: { 'ssm:resourceTag/project': 'Production' } } }] },
      null,
      2,
    );
    await editor.fill(good);
    await page.getByText('No findings: the policy is valid.').waitFor();
    // The refusal was of the text as it was: fixed, it goes.
    assert.equal(await page.getByRole('alert').filter({ hasText: 'The inline policy is not valid' }).count(), 0);
    await page.getByLabel('User name to simulate').fill('testuser01');
    await page.getByLabel('Instance').selectOption(prodInstance);
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.getByRole('status').getByText(`Allowed: testuser01 on prod-server01 (${prodInstance}), by ProductionPermissionSet inline policy statement 0 (ProductionShells).`).waitFor();
    await page.getByLabel('Instance').selectOption(devInstance);
    await page.getByRole('button', { name: 'Simulate' }).click();
    const denial = await page.getByRole('status').filter({ hasText: 'Denied: testuser01 on dev-server01' }).textContent();
    assert.match(denial ?? '', /ssm:resourceTag\/project/);
    assert.match(denial ?? '', /Development/);

    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').getByText(/The inline policy of ProductionPermissionSet is saved/).waitFor();
    const arn = (await page.locator('#set-heading + p.mono').textContent()) ?? '';
    assert.equal((await server.root.call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: arn })).InlinePolicy, good);

    await page.getByLabel('User or group').selectOption({ label: 'Group ProductionAccess' });
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByRole('status').getByText(/Group ProductionAccess has ProductionPermissionSet in account/).waitFor();
    await page.getByRole('button', { name: `Remove ProductionPermissionSet from ProductionAccess in ${accountId}` }).waitFor();
    const { AccountAssignments } = await server.root.call(ssoAdmin.ListAccountAssignments, { AccountId: accountId, PermissionSetArn: arn });
    assert.deepEqual(AccountAssignments.map((assignment) => assignment.PrincipalType), ['GROUP']);
    await checkPage(admin, 'permission-set');

    // Removed (after a confirmation), the policy is gone from the server too; then written back for the tests after.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Remove inline policy' }).click();
    await page.getByRole('status').getByText('The inline policy of ProductionPermissionSet is removed.').waitFor();
    assert.equal((await server.root.call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: arn })).InlinePolicy ?? '', '');
    await page.getByText('ProductionPermissionSet has no inline policy').waitFor();
    await editor.fill(good);
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').getByText(/The inline policy of ProductionPermissionSet is saved/).waitFor();
    assert.equal((await server.root.call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: arn })).InlinePolicy, good);
  });

  test('Activations: the code, id and command line are shown once; the code registers a server; then only the list remains', async () => {
    const { page } = admin;
    await goTo('Activations');
    await page.getByLabel('Default instance name').fill('web-server01');
    // A typo in the tags is the input's fault, said as such, and nothing is created.
    await page.getByLabel('Tags (key=value, one a line)').fill('project=Production\nnovalue');
    await page.getByRole('button', { name: 'Create activation' }).click();
    const typo = page.getByRole('alert');
    await typo.getByText('Check what you entered').waitFor();
    await typo.getByText('Tags: line 2 ("novalue") is not key=value.').waitFor();
    await page.getByLabel('Tags (key=value, one a line)').fill('project=Production\nteam=web');
    await page.getByRole('button', { name: 'Create activation' }).click();
    await page.getByRole('heading', { level: 2, name: 'Activation created' }).waitFor();
    const code = (await page.getByLabel('Activation code', { exact: true }).textContent()) ?? '';
    const id = (await page.getByLabel('Activation id', { exact: true }).textContent()) ?? '';
    const command = (await page.getByLabel('On the server, as root', { exact: true }).textContent()) ?? '';
    assert.match(id, /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/);
    assert.ok(code.length >= 20);
    assert.equal(command, `sudo airlock-agent register --endpoint-url ${server.url} --id ${id} --code ${code}\nsudo airlock-agent run`);
    await checkPage(admin, 'activation-created');
    const instanceId = await register(server, id, code, 'web-server01');
    assert.deepEqual((await server.root.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId })).TagList.map((tag) => `${tag.Key}=${tag.Value}`).sort(), ['project=Production', 'team=web']);

    await page.reload();
    await heading(page, 'Activations').waitFor();
    await page.getByRole('cell', { name: id, exact: true }).waitFor();
    assert.equal(await page.getByText(code).count(), 0, 'the code is gone after a reload');
    await page.getByRole('row', { name: new RegExp(id) }).getByRole('cell', { name: '1 of 1' }).waitFor();
    await checkPage(admin, 'activations');
    await page.getByRole('button', { name: `Delete activation ${id}` }).click();
    await page.getByRole('status').getByText(`Activation ${id} is deleted`).waitFor();
    const { ActivationList } = await server.root.call(fleet.DescribeActivations, {});
    assert.equal(ActivationList.filter((activation) => activation.ActivationId === id).length, 0);
  });

  test('Settings: session preferences and MFA settings are saved (read back through the API)', async () => {
    const { page } = admin;
    await goTo('Settings');
    await page.getByLabel('Log group name').fill('SessionManagerLogGroup');
    await page.getByLabel('Require an encrypted log group').uncheck();
    await page.getByLabel('Idle session timeout (minutes)').fill('15');
    await page.getByLabel('Maximum session duration (minutes)').fill('120');
    await page.getByLabel("Run sessions as the user's SSMSessionRunAs tag, or the default user").check();
    await page.getByLabel('Run As default user').fill('ssm-user');
    await page.getByLabel('S3 bucket name').fill('session-logs');
    await page.getByLabel('S3 key prefix').fill('prod/');
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByRole('status').getByText(/Saved as version 2: new sessions use these preferences/).waitFor();
    const { Content } = await server.root.call(documents.GetDocument, { Name: 'SSM-SessionManagerRunShell' });
    const inputs = (JSON.parse(Content ?? '{}') as { inputs: Record<string, unknown> }).inputs;
    assert.deepEqual(
      { ...inputs },
      { ...inputs, cloudWatchLogGroupName: 'SessionManagerLogGroup', cloudWatchEncryptionEnabled: false, idleSessionTimeout: '15', maxSessionDuration: '120', runAsEnabled: true, runAsDefaultUser: 'ssm-user', s3BucketName: 'session-logs', s3KeyPrefix: 'prod/' },
    );

    await page.getByLabel('Users without an authenticator app').selectOption('REQUIRE_REGISTRATION');
    await page.getByRole('button', { name: 'Save MFA settings' }).click();
    await page.getByRole('status').getByText('The MFA settings are saved').waitFor();
    assert.equal((await server.root.call(portal.GetMfaSettings, {})).NoDeviceAction, 'REQUIRE_REGISTRATION');
    await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });
    assert.equal(await page.getByRole('combobox', { name: 'Activation tier' }).inputValue(), 'standard');
    await checkPage(admin, 'settings');
  });

  test('Instance tags and event rules: a tag is set on dev-server01; a rule with a mail target is saved', async () => {
    const { page } = admin;
    await goTo('Instance tags');
    await page.getByLabel(`Tag key for ${devInstance}`).fill('owner');
    await page.getByLabel(`Tag value for ${devInstance}`).fill('platform-team');
    await page.getByRole('form', { name: `Add a tag to dev-server01 (${devInstance})` }).getByRole('button', { name: 'Set tag' }).click();
    await page.getByRole('button', { name: `Remove tag owner from dev-server01 (${devInstance})` }).waitFor();
    const tags = (await server.root.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: devInstance })).TagList;
    assert.ok(tags.some((tag) => tag.Key === 'owner' && tag.Value === 'platform-team'));
    await checkPage(admin, 'instance-tags');

    await goTo('Event rules');
    await page.getByLabel('Rule name').fill('session-starts');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('heading', { level: 2, name: 'session-starts' }).waitFor();
    await page.getByLabel('Target id').fill('security');
    await page.getByLabel('Webhook URL or mailto:address').fill('mailto:security@example.com');
    await page.getByRole('button', { name: 'Add target' }).click();
    await page.getByRole('button', { name: 'Remove target security' }).waitFor();
    await page.getByText('No deliveries yet.').waitFor();
    assert.deepEqual((await server.root.call(events.ListTargetsByRule, { Rule: 'session-starts' })).Targets.map((target) => target.Arn), ['mailto:security@example.com']);
    await checkPage(admin, 'event-rules');
  });

  test('viewer01, whose permission set allows no administration, is told so in plain words', async () => {
    const viewer = await openPage(browser);
    await openConsole(viewer, 'viewer01', 'ViewerPermissionSet');
    await viewer.page.goto(`${server.url}/console/admin/users`);
    await heading(viewer.page, 'Users').waitFor();
    const alert = viewer.page.getByRole('alert');
    await alert.getByText('Access denied').waitFor();
    assert.match((await alert.textContent()) ?? '', /AWSReservedSSO_ViewerPermissionSet_[0-9a-f]{16}\/viewer01 may not perform identitystore:ListUsers: no policy of your permission set allows it\./);
    await checkPage(viewer, 'denied');
    await viewer.page.context().close();
  });
});
