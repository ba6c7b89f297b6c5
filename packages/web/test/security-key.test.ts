/**
 * Security keys in a real browser: Debian's chromium with its virtual authenticator (DevTools
 * protocol, WebAuthn domain) registers a passkey on the MFA devices page and signs in with it,
 * and registers one in a first sign-in that must register a device (MFA_SETUP),
 * under the server's real Content-Security-Policy. WebAuthn takes no IP address as RP ID, so the
 * server's public URL is http://localhost:<port> (a secure context, as 127.0.0.1 is).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { identitystore, portal } from '@airlock/protocol';
import { accessibilityViolations, createPerson, launchBrowser, mailedTo, openPage, screenshot, startTestServer, TEST_PASSWORD, type TestPage, type TestServer } from '@airlock/testkit';
import type { Browser, CDPSession } from 'playwright-core';

let server: TestServer;
let browser: Browser;
let origin: string;

/** A port free now on the loopback, for a server whose public URL must name it before it starts. */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });

async function checkPage(page: TestPage, name: string): Promise<void> {
  assert.deepEqual(await accessibilityViolations(page.page), [], `accessibility of ${name}`);
  assert.deepEqual(page.problems, [], `errors logged by ${name}`);
  await screenshot(page.page, `security-key-${name}`);
}

async function signInWithPassword(page: TestPage, userName: string): Promise<void> {
  await page.page.goto(`${origin}/portal/sign-in`);
  await page.page.getByLabel('User name').fill(userName);
  await page.page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
  await page.page.getByRole('button', { name: 'Sign in' }).click();
}

/** The browser's built-in authenticator, as a platform passkey that verifies its user. */
async function virtualAuthenticator(cdp: CDPSession): Promise<string> {
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return authenticatorId;
}

before(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  server = await startTestServer({ flags: { listen: `127.0.0.1:${port}`, 'public-url': origin } });
  browser = await launchBrowser();
  await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP', 'SECURITY_KEY'], NoDeviceAction: 'EMAIL_OTP', UserVerification: 'REQUIRED' });
});

after(async () => {
  await browser.close();
  await server.stop();
});

test('a passkey is registered on the MFA devices page, then signs in; its counter rises', { timeout: 60_000 }, async () => {
  const userId = await createPerson(server, 'keyuser');
  const page = await openPage(browser);
  const cdp = await page.context.newCDPSession(page.page);
  const authenticatorId = await virtualAuthenticator(cdp);

  await signInWithPassword(page, 'keyuser');
  await page.page.getByText(/We sent a 6-digit code/).waitFor();
  await page.page.getByLabel('Code from the email').fill(mailedTo(server, 'keyuser@example.com', 'code'));
  await page.page.getByRole('button', { name: 'Verify' }).click();
  await page.page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();

  await page.page.goto(`${origin}/portal/mfa-devices`);
  await page.page.getByLabel('Name for the key').fill('laptop passkey');
  await page.page.getByRole('button', { name: 'Register security key' }).click();
  await page.page.getByRole('status').getByText('Security key “laptop passkey” registered.').waitFor();
  await page.page.getByRole('row', { name: /laptop passkey Security key/ }).waitFor();
  // The registration date is today's (the API sends epoch seconds), not one in 1970.
  await page.page.getByRole('row', { name: /laptop passkey Security key/ }).getByText(String(new Date().getFullYear())).waitFor();
  await checkPage(page, 'registered');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'the authenticator holds the new credential');
  assert.equal(credentials.at(0)?.rpId, 'localhost');

  // Signed out (cookies gone), the same browser signs in again with the key.
  await page.context.clearCookies();
  await signInWithPassword(page, 'keyuser');
  await page.page.getByRole('button', { name: 'Use security key' }).waitFor();
  await checkPage(page, 'sign-in-step');
  await page.page.getByRole('button', { name: 'Use security key' }).click();
  await page.page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await checkPage(page, 'signed-in');

  const used = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok((used.credentials.at(0)?.signCount ?? 0) > (credentials.at(0)?.signCount ?? 0), 'the assertion raised the counter');
  const { Devices } = await server.root.call(identitystore.ListMfaDevicesForUser, { UserId: userId });
  assert.equal(Devices.at(0)?.Type, 'SECURITY_KEY');
  assert.ok(Devices.at(0)?.LastUsedDate !== undefined, 'the server recorded the use');
  await page.context.close();
});

test('a first sign-in that must register a device (security keys only) registers a passkey there and goes on', { timeout: 60_000 }, async () => {
  await createPerson(server, 'firstkey');
  await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['SECURITY_KEY'], NoDeviceAction: 'REQUIRE_REGISTRATION', UserVerification: 'REQUIRED' });
  const page = await openPage(browser);
  try {
    await virtualAuthenticator(await page.context.newCDPSession(page.page));
    await signInWithPassword(page, 'firstkey');
    await page.page.getByRole('heading', { name: 'Register a security key' }).waitFor();
    assert.equal(await page.page.getByText('Scan this QR code').count(), 0, 'no authenticator app is offered');
    await checkPage(page, 'mfa-setup');
    await page.page.getByRole('button', { name: 'Register security key' }).click();
    await page.page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
    assert.deepEqual(page.problems, []);
  } finally {
    await page.context.close();
    await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP', 'SECURITY_KEY'], NoDeviceAction: 'EMAIL_OTP' });
  }
});
