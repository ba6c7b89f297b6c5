/**
 * Signing in with a SAML identity provider from the web console in a real browser (Debian's
 * chromium): the sign-in page's button, the AuthnRequest carried to the IdP (HTTP-Redirect),
 * the IdP's page posting the signed response back to the ACS (HTTP-POST, cross-site: the IdP is
 * on `localhost`, Airlock on `127.0.0.1`), and the portal open with the HttpOnly session cookie.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { identitySources } from '@airlock/protocol';
import { createPerson, launchBrowser, openPage, startTestServer, type TestServer } from '@airlock/testkit';
import type { Browser } from 'playwright-core';
import { MFA_CONTEXT, SamlTestIdp } from './saml-idp.js';

let server: TestServer;
let browser: Browser;
let idpServer: Server;
let idp: SamlTestIdp;

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

before(async () => {
  server = await startTestServer();
  browser = await launchBrowser();
  // The IdP's sign-in page: whoever arrives is "alice"; it answers the AuthnRequest with a form that posts itself to the ACS.
  idpServer = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/sso' || !url.searchParams.has('SAMLRequest')) {
      response.writeHead(404).end();
      return;
    }
    const authn = SamlTestIdp.readAuthnRequest(url.href);
    const answer = idp.response({
      nameId: 'alice',
      attributes: { email: 'alice@example.com' },
      audience: authn.issuer,
      recipient: authn.acsUrl,
      inResponseTo: authn.id,
      authnContext: MFA_CONTEXT,
    });
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="${escape(authn.acsUrl)}">` +
        `<input type="hidden" name="SAMLResponse" value="${escape(answer)}"><input type="hidden" name="RelayState" value="${escape(authn.relayState ?? '')}">` +
        '<noscript><button>Continue</button></noscript></form></body></html>',
    );
  });
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  idp = new SamlTestIdp('https://idp.example.test/saml', `http://localhost:${(idpServer.address() as AddressInfo).port}/sso`);
  await createPerson(server, 'admin');
  await server.root.call(identitySources.PutIdentitySource, {
    Type: 'SAML',
    Saml: { IdpMetadataXml: idp.metadata(), DisplayName: 'Example SAML IdP' },
    MfaFromIdentitySource: 'TRUST_IDENTITY_SOURCE',
    AcceptedMfaContexts: [MFA_CONTEXT],
    BreakGlassUserName: 'admin',
    ConfirmTypeChange: 'SAML',
  });
});

after(async () => {
  await browser.close();
  idpServer.closeAllConnections();
  await new Promise<void>((resolve) => idpServer.close(() => resolve()));
  await server.stop();
});

test('the sign-in page sends people to the SAML IdP, whose signed answer brings them back signed in', { timeout: 60_000 }, async () => {
  const { page, context, problems } = await openPage(browser);
  await page.goto(`${server.url}/portal/sign-in`);
  await page.getByRole('link', { name: 'Sign in with Example SAML IdP' }).click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await page.getByText('Signed in as').getByText('alice').waitFor();
  const session = (await context.cookies(server.url)).find((cookie) => cookie.name === 'airlock_session');
  assert.equal(session?.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.deepEqual(problems, []);
  await context.close();
});
