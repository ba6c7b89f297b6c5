/**
 * The portal in a real browser (Debian's chromium) against a real server serving the built app
 * under its real Content-Security-Policy: accepting an invitation, signing in with an emailed
 * code, registering an authenticator through the QR page, signing in with it, opening the
 * console as a permission set, approving an `airlock login`, a first sign-in that must set a
 * password and register an app, removing a device, signing out. axe-core checks every page.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identitystore, portal, roleSessions, ssoAdmin } from '@airlock/protocol';
import { accessibilityViolations, authenticatorCode, launchBrowser, mailedTo, openPage, screenshot, startTestServer, type TestPage, type TestServer } from '@airlock/testkit';
import type { Browser, Page } from 'playwright-core';

const PASSWORD = 'violet harbour at dawn';
const NEW_PASSWORD = 'seven quiet lanterns';
let server: TestServer;
let browser: Browser;
let accountId: string;
let alice: TestPage;

/** axe finds nothing, the page logged no error (a CSP violation is one), and a screenshot is kept. */
async function checkPage(test: TestPage, name: string): Promise<void> {
  assert.deepEqual(await accessibilityViolations(test.page), [], `accessibility of ${name}`);
  assert.deepEqual(test.problems, [], `errors logged by ${name}`);
  await screenshot(test.page, `portal-${name}`);
}

const heading = (page: Page, name: string) => page.getByRole('heading', { level: 1, name });

async function signInWithPassword(page: Page, userName: string, password: string): Promise<void> {
  await page.goto(`${server.url}/portal/sign-in`);
  await page.getByLabel('User name').fill(userName);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Reads the key the registration page writes out, and answers with the app's code now. */
async function confirmAuthenticator(page: Page, deviceName: string): Promise<string> {
  const key = (await page.locator('#authenticator-key').textContent())?.replace(/\s+/g, '') ?? '';
  assert.match(key, /^[A-Z2-7]{16,}$/);
  const qr = page.getByRole('img', { name: /QR code/ });
  assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml/);
  assert.ok(((await qr.boundingBox())?.width ?? 0) > 100, 'the QR code is shown');
  await page.getByLabel('Device name').fill(deviceName);
  await page.getByLabel('Code from the app').fill(authenticatorCode(key, server.clock.now()));
  await page.getByRole('button', { name: 'Add this authenticator' }).click();
  return key;
}

before(async () => {
  server = await startTestServer();
  browser = await launchBrowser();
  accountId = (await server.root.call(roleSessions.GetCallerIdentity, {})).Account;
  const { PermissionSet } = await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProductionPermissionSet', Description: 'Production servers' });
  const { UserId } = await server.root.call(identitystore.CreateUser, { UserName: 'alice', Emails: [{ Value: 'alice@example.com', Primary: true }] });
  await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: PermissionSet.PermissionSetArn, PrincipalType: 'USER', PrincipalId: UserId });
});

after(async () => {
  await browser.close();
  await server.stop();
});

test('the console is served with a strict CSP and security headers; hashed assets are cached for a year', async () => {
  const page = await fetch(`${server.url}/portal/sign-in`);
  assert.equal(page.status, 200);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  // Inline code never; inline styling only in style attributes (the terminal's colours).
  const directives = csp.split(';').map((directive) => directive.trim());
  assert.deepEqual(directives.filter((directive) => /unsafe-/.test(directive)), ["style-src-attr 'unsafe-inline'"]);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /<style|\sstyle=/, 'no inline style');
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  assert.ok(nonce !== undefined && html.includes(`content="${nonce}"`), 'the page knows its style nonce');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1] ?? '';
  const asset = await fetch(`${server.url}${script}`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('cache-control') ?? '', /max-age=31536000, immutable/);
  assert.match(asset.headers.get('content-type') ?? '', /javascript/);
  assert.equal((await fetch(`${server.url}/assets/gone-123.js`)).status, 404);
  const deep = await fetch(`${server.url}/console/sessions/alice-0123456789abcdef0`);
  assert.equal(deep.status, 200, 'any app path gets the app');
  assert.equal((await fetch(`${server.url}/api/portal/GetSession`)).status, 404, 'GET on the API is not the app');
});

test('an invited user sets a password from the mailed link; the token leaves the address bar', async () => {
  alice = await openPage(browser);
  await alice.page.goto(mailedTo(server, 'alice@example.com', 'link'));
  await heading(alice.page, 'Set your password').waitFor();
  assert.doesNotMatch(alice.page.url(), /token=/);
  await alice.page.getByText('Choose a password for alice.').waitFor();
  await checkPage(alice, 'accept-invitation');
  await alice.page.getByLabel('New password', { exact: true }).fill(PASSWORD);
  await alice.page.getByLabel('New password again').fill('something else entirely');
  await alice.page.getByRole('button', { name: 'Set password' }).click();
  await alice.page.getByText('The two passwords differ').waitFor();
  await alice.page.getByLabel('New password again').fill(PASSWORD);
  await alice.page.getByRole('button', { name: 'Set password' }).click();
  await alice.page.getByText('Your password is set, alice.').waitFor();
  // The link again: used, it says so at once, with no form to fill in.
  const again = await openPage(browser);
  await again.page.goto(mailedTo(server, 'alice@example.com', 'link'));
  await again.page.getByRole('alert').getByText(/This link is not valid: it may have expired or been used already/).waitFor();
  assert.equal(await again.page.getByLabel('New password', { exact: true }).count(), 0);
  await again.context.close();
});

test('a wrong password is refused in plain words, then the lockout says how long; then the emailed code signs in', async () => {
  const { page } = alice;
  await signInWithPassword(page, 'alice', 'not the password at all');
  await page.getByRole('alert').getByText('Incorrect username or password.').waitFor();
  await checkPage(alice, 'sign-in-refused');
  for (let attempt = 2; attempt <= 5; attempt++) {
    await page.getByLabel('Password', { exact: true }).fill(`wrong guess number ${attempt}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
  }
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').getByText(/Too many failed sign-in attempts; try again in \d+ seconds\./).waitFor();
  server.clock.advance(31_000);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/We sent a 6-digit code to a.*@example\.com/).waitFor();
  await checkPage(alice, 'sign-in-email-code');
  await page.getByLabel('Code from the email').fill(mailedTo(server, 'alice@example.com', 'code'));
  await page.getByRole('button', { name: 'Verify' }).click();
  await heading(page, 'Accounts').waitFor();
  await page.getByText('Signed in as').getByText('alice').waitFor();
  await checkPage(alice, 'accounts');
});

test('alice registers an authenticator app through the QR page, changes her password, then signs in with both', async () => {
  const { page } = alice;
  await page.getByRole('link', { name: 'MFA devices' }).click();
  await heading(page, 'MFA devices').waitFor();
  await page.getByText('No MFA device yet.').waitFor();
  // The MFA settings allow authenticator apps only: security keys are not offered.
  assert.equal(await page.getByRole('heading', { name: 'Register a security key or passkey' }).count(), 0);
  await page.getByRole('button', { name: 'Register an authenticator app' }).click();
  await page.locator('#authenticator-key').waitFor();
  await checkPage(alice, 'mfa-register');
  const key = await confirmAuthenticator(page, 'Alice phone');
  await page.getByText('Authenticator app registered.').waitFor();
  await page.getByRole('cell', { name: 'Alice phone', exact: true }).waitFor();
  await checkPage(alice, 'mfa-devices');

  await page.getByRole('link', { name: 'Password' }).click();
  await heading(page, 'Change your password').waitFor();
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('New password again').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByRole('alert').getByText(/Incorrect password/).waitFor();
  await checkPage(alice, 'change-password');
  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Your password is changed.').waitFor();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  await page.goto(`${server.url}/portal/mfa-devices`);
  await heading(page, 'Sign in').waitFor();
  assert.match(new URL(page.url()).searchParams.get('next') ?? '', /^\/portal\/mfa-devices$/, 'signed out, a portal page asks to sign in first');

  server.clock.advance(30_000); // a code is never accepted twice: the next one
  await page.getByLabel('User name').fill('alice');
  await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Code from your authenticator app').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').getByText('Wrong code').waitFor();
  await checkPage(alice, 'sign-in-authenticator');
  await page.getByLabel('Code from your authenticator app').fill(authenticatorCode(key, server.clock.now()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await heading(page, 'MFA devices').waitFor();
});

test('accounts → permission set → Management console: the top bar shows the role session and the account', async () => {
  const { page } = alice;
  // Before choosing, a console address says where to go, in the page's frame.
  await page.goto(`${server.url}/console/sessions`);
  await page.getByText('The console works in a role session.').waitFor();
  await heading(page, 'Sessions').waitFor();
  await page.locator('header').getByRole('link', { name: 'Airlock' }).waitFor();
  await checkPage(alice, 'console-without-role');
  await page.getByRole('link', { name: 'Choose an account and a permission set in the portal' }).click();
  await heading(page, 'Accounts').waitFor();
  await page.getByRole('link', { name: 'Accounts' }).click();
  await page.getByRole('button', { name: new RegExp(accountId) }).click();
  await page.getByRole('button', { name: 'Management console as ProductionPermissionSet' }).click();
  await heading(page, 'Console home').waitFor();
  const role = (await page.locator('header .role-session').textContent()) ?? '';
  assert.match(role, /^AWSReservedSSO_ProductionPermissionSet_[0-9a-f]{16}\/alice$/);
  assert.match((await page.locator('header').textContent()) ?? '', new RegExp(accountId));
  const cookies = await alice.context.cookies();
  assert.ok(cookies.some((cookie) => cookie.name === 'airlock_role' && cookie.httpOnly), 'the role session is an HttpOnly cookie');
  assert.equal(await page.evaluate('document.cookie.includes("airlock_role") || document.cookie.includes("airlock_session")'), false, 'no token is readable by script');
  await checkPage(alice, 'console-home');
});

test('the page an `airlock login` prints approves the device; the CLI then gets its token', async () => {
  const started = await server.client().call(portal.StartDeviceAuthorization, { ClientName: 'airlock CLI' });
  await alice.page.goto(started.VerificationUriComplete);
  await heading(alice.page, 'Approve a device sign-in').waitFor();
  assert.equal(await alice.page.getByLabel('Code shown by the program').inputValue(), started.UserCode);
  await checkPage(alice, 'device-approval');
  await alice.page.getByRole('button', { name: 'Approve' }).click();
  await alice.page.getByText('Approved: airlock CLI is signed in as alice.').waitFor();
  const token = await server.client().call(portal.CreateToken, { DeviceCode: started.DeviceCode });
  const session = await server.client(token.AccessToken).call(portal.GetSession, {});
  assert.equal(session.UserName, 'alice');
});

test('a first sign-in with a one-time password: a new password, then registering an app (MFA_SETUP); the device can be removed', async () => {
  const { OneTimePassword } = await server.root.call(identitystore.CreateUser, { UserName: 'bob', PasswordSetup: 'ONE_TIME_PASSWORD' });
  const bob = await openPage(browser);
  try {
    const { page } = bob;
    // `next` is only ever a path of this app: another site's address leads to the portal instead.
    await page.goto(`${server.url}/portal/sign-in?next=${encodeURIComponent('//example.com/phish')}`);
    await page.getByLabel('User name').fill('bob');
    await page.getByLabel('Password', { exact: true }).fill(OneTimePassword ?? '');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Choose your own.').waitFor();
    await checkPage(bob, 'sign-in-new-password');
    await page.getByLabel('New password', { exact: true }).fill('bob-bob-bob');
    await page.getByLabel('New password again').fill('bob-bob-bob');
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    await page.getByRole('alert').getByText('Choose another password').waitFor();
    await page.getByLabel('New password', { exact: true }).fill('amber falcon over fields');
    await page.getByLabel('New password again').fill('amber falcon over fields');
    await page.getByRole('button', { name: 'Set password and continue' }).click();
    await page.getByRole('heading', { name: 'Register an authenticator app' }).waitFor();
    await page.locator('#authenticator-key').waitFor();
    await checkPage(bob, 'sign-in-mfa-setup');
    await confirmAuthenticator(page, 'Bob laptop');
    await heading(page, 'Accounts').waitFor();
    assert.equal(new URL(page.url()).origin, server.url);
    await page.getByText('You have no permission set in any account yet.').waitFor();

    await page.getByRole('link', { name: 'MFA devices' }).click();
    await page.getByRole('cell', { name: 'Bob laptop', exact: true }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Remove Bob laptop' }).click();
    await page.getByText('Removed “Bob laptop”.').waitFor();
    await page.getByText('No MFA device yet.').waitFor();
    assert.deepEqual(bob.problems, []);
  } finally {
    await bob.context.close();
  }
});

test('signing out ends the role session in this browser too', async () => {
  const { page } = alice;
  await page.goto(`${server.url}/console`);
  await heading(page, 'Console home').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  assert.deepEqual((await alice.context.cookies()).filter((cookie) => cookie.value !== '').map((cookie) => cookie.name), []);
  await page.goto(`${server.url}/console`);
  await heading(page, 'Sign in').waitFor();
  assert.deepEqual(alice.problems, []);
});
