/**
 * Signing in through a SAML 2.0 identity provider, end to end: a real Airlock server, a test
 * IdP that signs real assertions with a key made by openssl (saml-idp.ts), and a cookie-keeping
 * browser that carries the HTTP-Redirect request and POSTs the response to the ACS. Covers: IdP
 * metadata import and SP metadata export, SP- and IdP-initiated sign-in ending in the portal
 * cookie, attributes mapped to email, groups and principal tags, the rejections (unsigned, wrong
 * signer, tampered, expired, wrong audience, wrong recipient, replayed, unknown InResponseTo),
 * a group removed at the IdP losing its permission set at the next sign-in, Airlock's MFA when
 * the IdP's does not count, and a user deactivated by SCIM refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError } from '@airlock/client';
import { cloudtrail, identitySources, identitystore, organizations, portal, roleSessions, scimTokens, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, createPerson, startTestServer, type TestServer } from '@airlock/testkit';
import { CookieBrowser, type Visit } from './cookie-browser.js';
import { makeSigningKey, MFA_CONTEXT, PASSWORD_CONTEXT, SamlTestIdp, type AssertionOptions } from './saml-idp.js';

const TIMEOUT = { timeout: 120_000 };
const IDP_ENTITY = 'https://idp.example.test/saml';
/** Never contacted: the test plays the IdP's part where the browser would go there. */
const IDP_SSO = 'https://idp.example.test/sso';

for (const backend of BACKENDS) {
  describe(`SAML identity source on ${backend}`, TIMEOUT, () => {
    let server: TestServer;
    let idp: SamlTestIdp;
    let account: string;
    let acs: string;
    let spEntity: string;

    const settings = () => ({
      Type: 'SAML' as const,
      Saml: { IdpMetadataXml: idp.metadata(), DisplayName: 'Test SAML IdP' },
      AttributeMapping: { Email: 'email', Groups: 'groups', PrincipalTags: { SSMSessionRunAs: 'unixUser' } },
      MfaFromIdentitySource: 'TRUST_IDENTITY_SOURCE' as const,
      AcceptedMfaContexts: [MFA_CONTEXT],
      BreakGlassUserName: 'admin',
    });

    const assertionFor = (nameId: string, groups: readonly string[], extra: Partial<AssertionOptions> = {}): AssertionOptions => ({
      nameId,
      attributes: { email: `${nameId}@example.com`, groups, unixUser: `${nameId}-unix` },
      audience: spEntity,
      recipient: acs,
      authnContext: MFA_CONTEXT,
      ...extra,
    });

    /** An IdP-initiated sign-in in a new browser: the response POSTed to the ACS. */
    async function postToAcs(samlResponse: string, relayState?: string): Promise<{ browser: CookieBrowser; visit: Visit }> {
      const browser = new CookieBrowser();
      const visit = await browser.postForm(acs, { SAMLResponse: samlResponse, ...(relayState === undefined ? {} : { RelayState: relayState }) });
      return { browser, visit };
    }

    async function refusedAtAcs(samlResponse: string, reason: RegExp): Promise<void> {
      const { browser, visit } = await postToAcs(samlResponse);
      assert.equal(visit.status, 401, visit.body);
      assert.match(visit.body, reason);
      assert.equal(browser.cookie('airlock_session'), undefined, 'no portal session');
    }

    async function rolesOf(browser: CookieBrowser): Promise<string[]> {
      const roles = await browser.call(server.url, roleSessions.ListAccountRoles, { AccountId: account });
      assert.equal(roles.status, 200, JSON.stringify(roles.body));
      return roles.body.RoleList.map((role) => role.RoleName).sort();
    }

    before(async () => {
      server = await startTestServer({ backend });
      idp = new SamlTestIdp(IDP_ENTITY, IDP_SSO);
      acs = `${server.url}/federation/saml/acs`;
      spEntity = `${server.url}/federation/saml/metadata`;
      account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      for (const name of ['Engineers', 'Operators']) {
        const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: name });
        const arn = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: `${name}Access` })).PermissionSet.PermissionSetArn;
        await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: GroupId });
      }
      await createPerson(server, 'admin');
    });
    after(async () => {
      await server.stop();
    });

    test("the IdP's metadata is imported (and checked), Airlock's SP metadata exported", async () => {
      const metadata = await fetch(spEntity, { signal: AbortSignal.timeout(10_000) });
      assert.equal(metadata.status, 200);
      assert.match(metadata.headers.get('content-type') ?? '', /^application\/samlmetadata\+xml/);
      const xml = await metadata.text();
      assert.match(xml, new RegExp(`entityID="${spEntity}"`));
      assert.match(xml, new RegExp(`AssertionConsumerService[^>]+Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]+Location="${acs}"|Location="${acs}"[^>]+HTTP-POST`));
      assert.match(xml, /WantAssertionsSigned="true"/);

      const bad = { ...settings(), Saml: { IdpMetadataXml: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>' }, ConfirmTypeChange: 'SAML' as const };
      await assert.rejects(server.root.call(identitySources.PutIdentitySource, bad), (error: unknown) => error instanceof AirlockApiError && error.code === 'ValidationException' && /IDPSSODescriptor/.test(error.message));
      const broken = { ...settings(), Saml: { IdpMetadataXml: '<not xml' }, ConfirmTypeChange: 'SAML' as const };
      await assert.rejects(server.root.call(identitySources.PutIdentitySource, broken), (error: unknown) => error instanceof AirlockApiError && /not well-formed/.test(error.message));
      assert.equal((await server.root.call(identitySources.GetIdentitySource, {})).Type, 'BUILT_IN');

      await server.root.call(identitySources.PutIdentitySource, { ...settings(), ConfirmTypeChange: 'SAML' });
      const stored = await server.root.call(identitySources.GetIdentitySource, {});
      assert.deepEqual([stored.Type, stored.CallbackUrl, stored.Saml?.DisplayName], ['SAML', acs, 'Test SAML IdP']);
      assert.deepEqual(await server.client().call(identitySources.GetSignInOptions, {}), {
        IdentitySourceType: 'SAML',
        PasswordSignIn: 'BREAK_GLASS_ONLY',
        ExternalSignIn: { DisplayName: 'Test SAML IdP', Url: `${server.url}/federation/saml/start` },
      });
    });

    test('SP-initiated: the AuthnRequest goes to the IdP, its signed answer signs in with the portal cookie, user made just in time', async () => {
      const browser = new CookieBrowser();
      const start = await browser.get(`${server.url}/federation/saml/start?return_to=/portal/accounts`);
      assert.equal(start.status, 303);
      assert.ok(start.location?.startsWith(`${IDP_SSO}?`), start.location);
      const request = SamlTestIdp.readAuthnRequest(start.location ?? '');
      assert.deepEqual([request.acsUrl, request.issuer, request.relayState], [acs, spEntity, '/portal/accounts']);

      const answer = idp.response(assertionFor('jdoe', ['Engineers', 'Operators', 'NotInAirlock'], { inResponseTo: request.id }));
      const landed = await browser.postForm(acs, { SAMLResponse: answer, RelayState: request.relayState ?? '' });
      assert.equal(landed.status, 303, landed.body);
      assert.equal(landed.location, `${server.url}/portal/accounts`);
      assert.ok(browser.cookie('airlock_session')?.startsWith('alp_'), 'the HttpOnly portal-session cookie');
      const session = await browser.call(server.url, portal.GetSession, {});
      assert.deepEqual([session.body.UserName, session.body.MfaAuthenticated], ['jdoe', true]);
      assert.deepEqual(await rolesOf(browser), ['EngineersAccess', 'OperatorsAccess']);

      const { Users } = await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'jdoe' }] });
      const user = Users[0] ?? assert.fail('jdoe was not made');
      assert.deepEqual([user.Emails?.[0]?.Value, user.Attributes?.['SSMSessionRunAs']], ['jdoe@example.com', 'jdoe-unix']);

      // The same answer again: its request was answered, and the assertion was used.
      const again = await new CookieBrowser().postForm(acs, { SAMLResponse: answer });
      assert.equal(again.status, 401);
      const made = await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'jdoe' }] });
      assert.equal(made.Users.length, 1);
    });

    test('IdP-initiated: an unsolicited signed response signs in; RelayState only returns to a path here', async () => {
      const { browser, visit } = await postToAcs(idp.response(assertionFor('asmith', ['Engineers'])), 'https://evil.example/steal');
      assert.equal(visit.status, 303, visit.body);
      assert.equal(visit.location, `${server.url}/portal`);
      assert.deepEqual(await rolesOf(browser), ['EngineersAccess']);
    });

    test('refused: unsigned, wrong signer, tampered, expired, wrong audience, wrong recipient, wrong issuer, replayed, unknown InResponseTo', async () => {
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { signer: 'unsigned' })), /[Ss]ignature/);
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { signer: makeSigningKey('not-the-idp') })), /[Ss]ignature/);
      const tampered = idp.responseXml(assertionFor('mallory', ['Engineers'])).replace('<saml:AttributeValue>Engineers</saml:AttributeValue>', '<saml:AttributeValue>Operators</saml:AttributeValue>');
      await refusedAtAcs(Buffer.from(tampered).toString('base64'), /[Ss]ignature/);
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { notOnOrAfter: Date.now() - 5 * 60_000 })), /expired/i);
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { audience: 'https://another-sp.example/' })), /audience/i);
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { recipient: 'https://another-sp.example/acs' })), /is for https:\/\/another-sp\.example\/acs, not for this server/);
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { issuer: 'https://other-idp.example/' })), /not by the configured identity provider/);
      await refusedAtAcs(idp.response(assertionFor('mallory', ['Operators'], { inResponseTo: '_never-sent' })), /InResponseTo/);
      const once = idp.response(assertionFor('replayed', ['Operators']));
      const first = await postToAcs(once);
      assert.equal(first.visit.status, 303, first.visit.body);
      await refusedAtAcs(once, /already used/);
      const made = await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'mallory' }] });
      assert.deepEqual(made.Users, [], 'no refused assertion made a user');
      const { Events } = await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'ExternalSignIn' }], MaxResults: 50 });
      assert.ok(Events.some((event) => event.CloudTrailEvent.includes('already used')), 'refusals are audited');
    });

    test("a user removed from an IdP group loses that group's permission set at the next sign-in", async () => {
      const before = await postToAcs(idp.response(assertionFor('groupie', ['Engineers', 'Operators'])));
      assert.deepEqual(await rolesOf(before.browser), ['EngineersAccess', 'OperatorsAccess']);
      const after = await postToAcs(idp.response(assertionFor('groupie', ['Engineers'])));
      assert.deepEqual(await rolesOf(after.browser), ['EngineersAccess']);
      const denied = await after.browser.call(server.url, roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'OperatorsAccess' });
      assert.equal(denied.body.__type, 'AccessDeniedException');
    });

    test("without an accepted AuthnContextClassRef, Airlock's MFA follows on the sign-in page", async () => {
      const { browser, visit } = await postToAcs(idp.response(assertionFor('pwonly', ['Engineers'], { authnContext: PASSWORD_CONTEXT })));
      assert.equal(visit.status, 303);
      const target = new URL(visit.location ?? '');
      assert.equal(target.pathname, '/portal/sign-in');
      assert.equal(new URLSearchParams(target.hash.slice(1)).get('challenge'), 'EMAIL_OTP');
      assert.equal(browser.cookie('airlock_session'), undefined);
    });

    test('with AllowIdpInitiated false, only answers to requests Airlock sent are taken', async () => {
      await server.root.call(identitySources.PutIdentitySource, { ...settings(), Saml: { ...settings().Saml, AllowIdpInitiated: false } });
      try {
        await refusedAtAcs(idp.response(assertionFor('unsolicited', ['Engineers'])), /InResponseTo/);
        const browser = new CookieBrowser();
        const request = SamlTestIdp.readAuthnRequest((await browser.get(`${server.url}/federation/saml/start`)).location ?? '');
        const landed = await browser.postForm(acs, { SAMLResponse: idp.response(assertionFor('solicited', ['Engineers'], { inResponseTo: request.id })) });
        assert.equal(landed.status, 303, landed.body);
      } finally {
        await server.root.call(identitySources.PutIdentitySource, settings());
      }
    });

    test('a user deactivated through SCIM is refused at the ACS', async () => {
      const { AccessToken, ScimEndpoint } = await server.root.call(scimTokens.CreateScimAccessToken, {});
      const headers = { authorization: `Bearer ${AccessToken}`, 'content-type': 'application/scim+json' };
      const created = await fetch(`${ScimEndpoint}/Users`, { method: 'POST', headers, body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'leaver', active: false }) });
      assert.equal(created.status, 201);
      const { visit } = await postToAcs(idp.response(assertionFor('leaver', ['Engineers'])));
      assert.equal(visit.status, 403, visit.body);
      assert.match(visit.body, /User is disabled/);
    });
  });
}
