/**
 * Signing in with an OpenID provider from the web console in a real browser (Debian's
 * chromium): the sign-in page's "Sign in with …" button, the round trip through the provider
 * (oidc-provider on loopback), and back in the portal with the HttpOnly session cookie; when the
 * provider's sign-in had no MFA, the sign-in page asks for Airlock's emailed code.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identitySources } from '@airlock/protocol';
import { accessibilityViolations, createPerson, launchBrowser, mailedTo, openPage, startTestServer, type TestServer } from '@airlock/testkit';
import type { Browser } from 'playwright-core';
import { CLIENT_ID, CLIENT_SECRET, TestProvider } from './test-oidc-provider.js';

let server: TestServer;
let browser: Browser;
const idp = new TestProvider();

before(async () => {
  server = await startTestServer();
  browser = await launchBrowser();
  await idp.start(`${server.url}/federation/oidc/callback`);
  idp.people.set('alice', { email: 'alice@example.com', groups: [], team: 'ops' });
  await createPerson(server, 'admin');
  await server.root.call(identitySources.PutIdentitySource, {
    Type: 'OIDC',
    Oidc: { IssuerUrl: idp.issuer, ClientId: CLIENT_ID, ClientSecret: CLIENT_SECRET, Scopes: ['openid', 'profile', 'email', 'groups', 'team'], DisplayName: 'Example IdP' },
    MfaFromIdentitySource: 'TRUST_IDENTITY_SOURCE',
    BreakGlassUserName: 'admin',
    ConfirmTypeChange: 'OIDC',
  });
});

after(async () => {
  await browser.close();
  await idp.stop();
  await server.stop();
});

test('the sign-in page sends people to the provider and they come back signed in', { timeout: 60_000 }, async () => {
  idp.login = { accountId: 'alice', amr: ['pwd', 'hwk'] };
  const { page, context, problems } = await openPage(browser);
  await page.goto(`${server.url}/portal/sign-in`);
  await page.getByText('The form below is for the emergency (break-glass) account only.').waitFor();
  assert.deepEqual(await accessibilityViolations(page), [], 'the sign-in page with the button is accessible');
  assert.deepEqual(problems, [], 'the sign-in page logged no error (CSP included)');
  await page.getByRole('link', { name: 'Sign in with Example IdP' }).click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await page.getByText('Signed in as').getByText('alice').waitFor();
  const cookies = await context.cookies(server.url);
  assert.equal(cookies.find((cookie) => cookie.name === 'airlock_session')?.httpOnly, true);
  assert.equal(cookies.find((cookie) => cookie.name === 'airlock_federation'), undefined, 'the flow cookie is gone');
  await context.close();
});

test("without MFA at the provider, the sign-in page asks for Airlock's emailed code", { timeout: 60_000 }, async () => {
  idp.login = { accountId: 'alice', amr: ['pwd'] };
  const { page, context } = await openPage(browser);
  await page.goto(`${server.url}/portal/sign-in`);
  await page.getByRole('link', { name: 'Sign in with Example IdP' }).click();
  await page.getByText(/We sent a 6-digit code to/).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the challenge leaves the address bar');
  await page.getByLabel('Code from the email').fill(mailedTo(server, 'alice@example.com', 'code'));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await context.close();
});
