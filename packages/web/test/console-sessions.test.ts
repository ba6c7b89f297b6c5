/**
 * The console's session features in a real browser (Debian's chromium) against a real server
 * and two real agents (real PTYs), as the guide's users: testuser01 (ProductionAccess, the
 * guide's on-premises production policy) signs in with the mailed code and opens the console;
 * Session Manager enables prod-server01 and disables dev-server01 saying which tag the policy
 * wants; the shell opens in a new tab, `echo hello` shows its output, a window resize reaches
 * the shell (`stty size`), a dropped WebSocket is resumed and the session goes on; its owner
 * terminates it from the Sessions page; it is in the history and its replay plays. As an auditor permission set the same person reads
 * the session's log stream, searches the log group and looks the StartSession up in the audit
 * trail. testuser02 (DevelopmentAccess) the reverse: dev-server01's shell runs `hostname`,
 * prod-server01 is refused with the access-denied message. admin01 (AdministratorAccess) finds
 * both users' sessions in the log group and replays testuser02's: the guide's Tests 1, 2 and 3.
 * axe-core checks every page; no page logs an error (a CSP violation is one).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { documents, identitystore, roleSessions, ssoAdmin } from '@airlock/protocol';
import { accessibilityViolations, createPerson, launchBrowser, mailedTo, openPage, screenshot, startTestServer, TEST_PASSWORD, temporaryDirectory, type TestPage, type TestServer } from '@airlock/testkit';
import { startRealAgent, type RealAgent } from '@airlock/testkit/real-agent';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';

const SSM_USER = `airlock-w${randomBytes(3).toString('hex')}`;
const GROUP = 'SessionManagerLogGroup';
const policy = (name: string): string => readFileSync(new URL(`../../../examples/guide/policies/${name}.json`, import.meta.url), 'utf8');
const AUDITOR_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['logs:Describe*', 'logs:Get*', 'logs:FilterLogEvents', 'cloudtrail:LookupEvents', 'ssm:DescribeSessions', 'ssm:GetSessionRecording', 'ssm:DescribeInstanceProperties'], Resource: '*' }],
});

/** axe finds nothing, the page logged no error, and a screenshot is kept. */
async function checkPage(page: Page, problems: readonly string[], name: string): Promise<void> {
  assert.deepEqual(await accessibilityViolations(page), [], `accessibility of ${name}`);
  assert.deepEqual(problems, [], `errors logged by ${name}`);
  await screenshot(page, `console-${name}`);
}

const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });

/** The terminal's screen as text, one line per row. */
const screenText = (page: Page): Promise<string> => page.locator('.shell-screen .xterm-rows').innerText();

async function waitForScreen(page: Page, pattern: RegExp, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await screenText(page);
    if (pattern.test(text)) return;
    if (Date.now() > deadline) assert.fail(`${what}: the screen never matched ${String(pattern)}; it shows:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the console: Session Manager, the browser shell, sessions and replay, logs, audit', () => {
  let server: TestServer;
  let browser: Browser;
  let dir: { path: string; remove: () => Promise<void> };
  let user: TestPage;
  let accountId: string;
  const agents: RealAgent[] = [];
  const ids = new Map<string, string>();
  const id = (name: string): string => ids.get(name) ?? assert.fail(`no instance ${name}`);
  let sessionId = '';
  let devSessionId = '';

  before(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    dir = await temporaryDirectory();
    accountId = (await server.root.call(roleSessions.GetCallerIdentity, {})).Account;
    const preferences = { schemaVersion: '1.0', description: 'Session Manager preferences', sessionType: 'Standard_Stream', inputs: { cloudWatchLogGroupName: GROUP, cloudWatchEncryptionEnabled: false, cloudWatchStreamingEnabled: true } };
    await server.root.call(documents.CreateDocument, { Name: 'SSM-SessionManagerRunShell', Content: JSON.stringify(preferences), DocumentType: 'Session' });
    // The guide's groups and permission sets, an auditor permission set for testuser01, and an administrator.
    const testuser01 = await createPerson(server, 'testuser01');
    const admin01 = await createPerson(server, 'admin01');
    const groupOf = async (group: string, userId: string): Promise<{ PrincipalType: 'GROUP'; PrincipalId: string }> => {
      const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: group });
      await server.root.call(identitystore.CreateGroupMembership, { GroupId, MemberId: { UserId: userId } });
      return { PrincipalType: 'GROUP', PrincipalId: GroupId };
    };
    const production = await groupOf('ProductionAccess', testuser01);
    const development = await groupOf('DevelopmentAccess', await createPerson(server, 'testuser02'));
    for (const [name, permissions, principal] of [
      ['ProductionPermissionSet', { inline: policy('production-onprem') }, production],
      ['DevelopmentPermissionSet', { inline: policy('development-onprem') }, development],
      ['AuditorPermissionSet', { inline: AUDITOR_POLICY }, { PrincipalType: 'USER', PrincipalId: testuser01 }],
      ['AdministratorAccess', { managed: 'arn:aws:iam::aws:policy/AdministratorAccess' }, { PrincipalType: 'USER', PrincipalId: admin01 }],
    ] as const) {
      const arn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: name })).PermissionSet.PermissionSetArn;
      if ('inline' in permissions) await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: arn, InlinePolicy: permissions.inline });
      else await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: arn, ManagedPolicyArn: permissions.managed });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, ...principal });
    }
    for (const [name, project] of [
      ['prod-server01', 'Production'],
      ['dev-server01', 'Development'],
    ] as const) {
      const agent = await startRealAgent(server, { stateDir: `${dir.path}/${name}`, ssmUser: SSM_USER, sudoersFile: `${dir.path}/${name}-sudoers`, tags: [{ Key: 'project', Value: project }, { Key: 'Name', Value: name }] });
      agents.push(agent);
      ids.set(name, agent.instanceId);
    }
    user = await openPage(browser);
  });

  after(async () => {
    for (const agent of agents) await agent.stop();
    await browser.close();
    await server.stop();
    await dir.remove();
    spawnSync('userdel', ['-r', SSM_USER], { stdio: 'ignore' });
  });

  async function openConsoleAs(person: TestPage, permissionSet: string): Promise<void> {
    const { page } = person;
    await page.goto(`${server.url}/portal`);
    await page.getByRole('button', { name: new RegExp(accountId) }).click();
    await page.getByRole('button', { name: `Management console as ${permissionSet}` }).click();
    await heading(page, 'Console home').waitFor();
  }

  /** Signs in with password and the mailed code (the guide's MFA for a user without an app), then opens the console as the permission set. */
  async function signInToConsole(person: TestPage, userName: string, permissionSet: string): Promise<void> {
    const { page } = person;
    await page.goto(`${server.url}/portal/sign-in`);
    await page.getByLabel('User name').fill(userName);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Code from the email').waitFor();
    await page.getByLabel('Code from the email').fill(mailedTo(server, `${userName}@example.com`, 'code'));
    await page.getByRole('button', { name: 'Verify' }).click();
    await heading(page, 'Accounts').waitFor();
    await openConsoleAs(person, permissionSet);
  }

  /** Session Manager: `allowed` may be chosen, `denied` is disabled with the reason naming the tag the policy wants. */
  async function pickTarget(person: TestPage, allowed: string, denied: string, project: string): Promise<void> {
    const { page } = person;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Session Manager' }).click();
    await heading(page, 'Session Manager').waitFor();
    const yes = page.getByRole('radio', { name: new RegExp(allowed) });
    const no = page.getByRole('radio', { name: new RegExp(denied) });
    await yes.waitFor();
    assert.equal(await yes.isEnabled(), true);
    assert.equal(await no.isDisabled(), true);
    const why = (await page.locator(`#${(await no.getAttribute('aria-describedby')) ?? ''}`.replace(/:/g, '\\:')).textContent()) ?? '';
    assert.match(why, /ssm:resourceTag\/project/);
    assert.match(why, new RegExp(project));
    assert.equal(await no.locator('xpath=..').getAttribute('title'), why.replace(/^Not available: /, ''), 'the same reason as a tooltip');
    await yes.check();
  }

  /** Start session opens the shell in a new tab; resolves once it is connected. */
  async function openShell(person: TestPage, userName: string): Promise<{ shell: Page; problems: string[]; sessionId: string }> {
    const [shell] = await Promise.all([person.context.waitForEvent('page'), person.page.getByRole('button', { name: 'Start session' }).click()]);
    const problems: string[] = [];
    shell.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    shell.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const connected = shell.getByText(new RegExp(`^Connected: session ${userName}-[0-9a-f]{17}$`));
    await connected.waitFor();
    const started = new RegExp(`${userName}-[0-9a-f]{17}`).exec((await connected.textContent()) ?? '')?.[0];
    return { shell, problems, sessionId: started ?? assert.fail('no session id in the status line') };
  }

  /** The guide's step 5 with the other server: the shell's page says who may not do what, on which instance, and shows no terminal. */
  async function expectDenied(person: TestPage, userName: string, target: string): Promise<void> {
    const { page } = person;
    await page.goto(`${server.url}/console/session-manager/terminal?target=${id(target)}`);
    await page.getByRole('alert').getByText(new RegExp(`${userName} may not perform ssm:StartSession on arn:\\S+:managed-instance/${id(target)}`)).waitFor();
    assert.equal(await page.locator('.shell-screen').isHidden(), true, 'no empty terminal under the error');
    assert.equal(await page.getByLabel('Find in output').isDisabled(), true, 'nothing to search');
    await checkPage(page, person.problems, `shell-denied-${userName}`);
  }

  test('testuser01 signs in with the mailed code and opens the console as ProductionPermissionSet', async () => {
    await signInToConsole(user, 'testuser01', 'ProductionPermissionSet');
  });

  test('Instances: both servers with their ping status and platform; the search narrows the list', async () => {
    const { page } = user;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Instances' }).click();
    await heading(page, 'Instances').waitFor();
    await page.getByRole('cell', { name: id('prod-server01') }).waitFor();
    await page.getByRole('cell', { name: id('dev-server01') }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'Online' }).count(), 2);
    await page.getByText('2 of 2 instances').waitFor();
    await page.getByLabel('Search').fill('prod');
    await page.getByText('1 of 2 instances').waitFor();
    await page.getByRole('cell', { name: 'prod-server01' }).waitFor();
    await checkPage(page, user.problems, 'instances');
    await page.getByLabel('Search').fill('no-such-server');
    await page.getByRole('cell', { name: 'No instance matches the search and filter.' }).waitFor();
    await page.getByLabel('Search').fill('');
  });

  test('Session Manager: prod-server01 may be chosen; dev-server01 is disabled and says which tag the policy wants', async () => {
    const { page } = user;
    await pickTarget(user, 'prod-server01', 'dev-server01', 'Production');
    await page.getByRole('heading', { name: 'From your terminal' }).waitFor();
    assert.match((await page.locator('.commands').textContent()) ?? '', new RegExp(`--target ${id('prod-server01')} --document-name AWS-StartPortForwardingSession`));
    await checkPage(page, user.problems, 'session-manager');
  });

  test('the shell opens in a new tab: output, a resize reaching the shell, a dropped WebSocket resumed; terminated from the Sessions page', async () => {
    const { page, context } = user;
    const routes: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
    // Every session WebSocket passes through the test, which can cut it as a network would.
    await context.routeWebSocket(/\/session\/stream\//, (socket) => {
      routes.push({ page: socket, server: socket.connectToServer() });
    });
    await page.getByLabel('Reason (optional)').fill('checking the browser shell');
    const opened = await openShell(user, 'testuser01');
    const { shell, problems } = opened;
    sessionId = opened.sessionId;

    await shell.locator('.shell-screen').click();
    await shell.keyboard.type('echo hello\n');
    await waitForScreen(shell, /^hello\s*$/m, 'the output of echo');
    // A program's 24-bit colour shows (xterm.js sets it in a style attribute, which the page's policy must let through).
    await shell.keyboard.type("printf '\\033[38;2;255;0;0mTRUERED\\033[0m\\n'\n");
    await waitForScreen(shell, /^TRUERED\s*$/m, 'the coloured output');
    const colour = await shell.locator('.xterm-rows span', { hasText: /^TRUERED$/ }).first().evaluate((span) => getComputedStyle(span).color);
    assert.equal(colour, 'rgb(255, 0, 0)');

    const sizeOf = async () => ({ cols: Number(await shell.locator('.shell-screen').getAttribute('data-cols')), rows: Number(await shell.locator('.shell-screen').getAttribute('data-rows')) });
    const before = await sizeOf();
    await shell.keyboard.type('stty size\n');
    await waitForScreen(shell, new RegExp(`^${before.rows} ${before.cols}\\s*$`, 'm'), 'the first size');
    await shell.setViewportSize({ width: 900, height: 600 });
    await shell.waitForFunction((cols) => Number(document.querySelector('.shell-screen')?.getAttribute('data-cols')) !== cols, before.cols);
    const after = await sizeOf();
    assert.ok(after.cols < before.cols && after.rows < before.rows, `the terminal follows the window: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    await shell.keyboard.type('clear; stty size\n');
    await waitForScreen(shell, new RegExp(`^${after.rows} ${after.cols}\\s*$`, 'm'), 'the size after the resize');

    assert.equal(routes.length, 1);
    const first = routes[0];
    await first?.page.close({ code: 4000, reason: 'the network went away' });
    await first?.server.close();
    await shell.getByText(`Connected: session ${sessionId}`).waitFor();
    assert.equal(routes.length, 2, 'the page dialled again');
    await shell.keyboard.type('echo after-the-drop\n');
    await waitForScreen(shell, /^after-the-drop\s*$/m, 'the output after the drop');
    await checkPage(shell, problems, 'shell');

    // The Sessions page lists it as active; its owner terminates it there, and the shell's tab hears the end.
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('link', { name: sessionId }).waitFor();
    await checkPage(page, user.problems, 'sessions-active');
    await page.getByRole('row', { name: new RegExp(sessionId) }).getByRole('cell', { name: 'you', exact: true }).waitFor();
    await page.getByRole('button', { name: `Terminate ${sessionId}` }).click();
    await shell.getByText('The session ended: terminated by testuser01.').waitFor();
    await page.getByText('No session is open.').waitFor();
    await shell.close();
  });

  test('dev-server01 asked for anyway: the access-denied message', async () => {
    await expectDenied(user, 'testuser01', 'dev-server01');
  });

  test('Sessions: the session is in the history; its page replays the recording', async () => {
    const { page } = user;
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
    await heading(page, 'Sessions').waitFor();
    await page.getByRole('button', { name: 'Session history' }).click();
    await page.getByRole('link', { name: sessionId }).waitFor();
    await checkPage(page, user.problems, 'sessions-history');
    await page.getByRole('link', { name: sessionId }).click();
    await heading(page, 'Session').waitFor();
    await page.getByText('checking the browser shell').waitFor();
    await page.getByLabel('Speed').selectOption('8');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.locator('.replay[data-state="ended"]').waitFor({ timeout: 20_000 });
    // The replay ends on the screen the session showed last.
    await page.waitForFunction(() => /after-the-drop/.test(document.querySelector('.replay-screen .xterm-rows')?.textContent ?? ''));
    // testuser01's policy does not let them read the log group: the page says so in plain words.
    await page.getByRole('alert').getByText(/may not perform logs:GetLogEvents/).waitFor();
    await checkPage(page, user.problems, 'session-replay');
    // An address naming no session says so.
    await page.goto(`${server.url}/console/sessions/x`);
    await page.getByRole('alert').getByText('There is no session x (active, or ended in the last 30 days).').waitFor();
  });

  test('as AuditorPermissionSet: the log group, the session stream with its typed commands, a search, and the audit trail', async () => {
    const { page } = user;
    await openConsoleAs(user, 'AuditorPermissionSet');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Log groups' }).click();
    await page.getByRole('link', { name: GROUP }).waitFor();
    await checkPage(page, user.problems, 'log-groups');
    await page.getByRole('link', { name: GROUP }).click();
    await heading(page, 'Log group').waitFor();
    await page.getByRole('link', { name: sessionId }).waitFor();
    // The command typed key by key is found by its words: a line typed is one input event.
    await page.getByLabel('Filter pattern').fill('"echo after-the-drop"');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('.log-events li').filter({ hasText: '"input":"echo after-the-drop\\r"' }).waitFor();
    await checkPage(page, user.problems, 'log-group');
    await page.getByRole('link', { name: sessionId }).click();
    await heading(page, 'Log stream').waitFor();
    await page.locator('.log-events li').first().waitFor();
    // Input and output as JSON text, a line an event: the keys typed one by one are one input.
    const stream = (await page.locator('.log-events').textContent()) ?? '';
    assert.match(stream, /"input":"echo hello\\r"/);
    assert.match(stream, /hello\\r\\n/);
    await checkPage(page, user.problems, 'log-stream');

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Audit' }).click();
    await heading(page, 'Audit').waitFor();
    await page.getByLabel('Value').fill('StartSession');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByRole('cell', { name: /^StartSession/ }).first().waitFor();
    await page.getByRole('cell', { name: 'testuser01' }).first().waitFor();
    await checkPage(page, user.problems, 'audit');
    // Times the wrong way round: said in the form's words before anything is asked.
    await page.getByLabel('From').fill('2026-11-30T10:00');
    await page.getByLabel('To').fill('2026-11-29T10:00');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByRole('alert').getByText('From is after To').waitFor();
  });

  test('testuser02 (DevelopmentAccess), the reverse: dev-server01\'s shell runs hostname; prod-server01 is refused with the access-denied message', async () => {
    const developer = await openPage(browser);
    await signInToConsole(developer, 'testuser02', 'DevelopmentPermissionSet');
    await pickTarget(developer, 'dev-server01', 'prod-server01', 'Development');
    await checkPage(developer.page, developer.problems, 'session-manager-development');
    const opened = await openShell(developer, 'testuser02');
    const { shell, problems } = opened;
    devSessionId = opened.sessionId;
    await shell.locator('.shell-screen').click();
    await shell.keyboard.type('hostname\n');
    await waitForScreen(shell, new RegExp(`^${hostname()}\\s*$`, 'm'), 'the output of hostname');
    await checkPage(shell, problems, 'shell-development');
    await shell.keyboard.type('exit\n');
    await shell.getByText('The shell exited (status 0).').waitFor();
    // A shell that ended well is not shown as a failure.
    assert.equal(await shell.locator('.session-state').getAttribute('class'), 'session-state state-exited');
    // Find says when the output does not hold the text.
    await shell.getByLabel('Find in output').fill('no-such-text-anywhere');
    await shell.getByRole('button', { name: 'Find' }).click();
    await shell.getByText('Not in the output.').waitFor();
    await shell.close();
    await expectDenied(developer, 'testuser02', 'prod-server01');
    await developer.context.close();
  });

  test('admin01 (AdministratorAccess) finds both users\' sessions in the log group, reads one, and replays testuser02\'s', async () => {
    const admin = await openPage(browser);
    const { page } = admin;
    await signInToConsole(admin, 'admin01', 'AdministratorAccess');
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Log groups' }).click();
    await page.getByRole('link', { name: GROUP }).click();
    await heading(page, 'Log group').waitFor();
    await page.getByRole('link', { name: sessionId }).waitFor();
    await page.getByRole('link', { name: devSessionId }).waitFor();
    await checkPage(page, admin.problems, 'admin-log-group');
    await page.getByRole('link', { name: devSessionId }).click();
    await heading(page, 'Log stream').waitFor();
    await page.locator('.log-events li').first().waitFor();
    assert.match((await page.locator('.log-events').textContent()) ?? '', new RegExp(`${hostname()}\\\\r\\\\n`), 'the output of hostname, as JSON text');
    await checkPage(page, admin.problems, 'admin-log-stream');

    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Sessions' }).click();
    await page.getByRole('button', { name: 'Session history' }).click();
    await page.getByRole('link', { name: sessionId }).waitFor();
    await page.getByRole('link', { name: devSessionId }).click();
    await heading(page, 'Session').waitFor();
    await page.getByLabel('Speed').selectOption('8');
    await page.getByRole('button', { name: 'Play' }).click();
    await page.locator('.replay[data-state="ended"]').waitFor({ timeout: 20_000 });
    await page.waitForFunction((name) => (document.querySelector('.replay-screen .xterm-rows')?.textContent ?? '').includes(name), hostname());
    assert.equal(await page.getByLabel('Replay position').evaluate((bar) => (bar as HTMLProgressElement).value === (bar as HTMLProgressElement).max), true, 'the bar is full once played');
    await checkPage(page, admin.problems, 'admin-session-replay');
    await admin.context.close();
  });
});
