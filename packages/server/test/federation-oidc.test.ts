/**
 * Signing in through an OpenID Connect provider, end to end: a real provider (oidc-provider)
 * on loopback, a real Airlock server, a cookie-keeping browser walking the redirects. The
 * provider's login page is the one thing automated: the test says who "types their password"
 * there (and with which methods, for amr). Covers: the setting and its confirmation, PKCE and
 * state bound to the browser, the ID token's checks, just-in-time users with claims mapped to
 * email, groups and principal tags, a session started with the group's permission set, group
 * removal at the provider taking effect at the next sign-in, MFA trusted from amr or asked by
 * Airlock, and the break-glass user.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { identitySources, identitystore, organizations, portal, roleSessions, sessions, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, createPerson, refused, signInToken, SimulatedAgent, startTestServer, TEST_PASSWORD, type TestServer } from '@airlock/testkit';
import { CookieBrowser } from './cookie-browser.js';
import { CLIENT_ID, CLIENT_SECRET, TestProvider } from './test-oidc-provider.js';

const TIMEOUT = { timeout: 60_000 };

const isAirlockPage = (server: TestServer) => (location: string) => location.startsWith(server.url) && !location.includes('/federation/');

for (const backend of BACKENDS) {
  describe(`OIDC identity source on ${backend}`, TIMEOUT, () => {
    let server: TestServer;
    const idp = new TestProvider();
    let account: string;
    let agent: SimulatedAgent;

    /** Signs in through the provider in a new browser; returns the browser and where Airlock sent it. */
    async function browserSignIn(accountId: string, amr: string[], provider = idp): Promise<{ browser: CookieBrowser; landed: string }> {
      provider.login = { accountId, amr };
      const browser = new CookieBrowser();
      const options = await browser.call(server.url, identitySources.GetSignInOptions, {});
      const url = options.body.ExternalSignIn?.Url ?? assert.fail('no sign-in link');
      const landed = await browser.follow(`${url}?return_to=/portal/accounts`, isAirlockPage(server));
      return { browser, landed: landed.location ?? assert.fail(`no redirect back to Airlock: ${landed.status} ${landed.body}`) };
    }

    before(async () => {
      server = await startTestServer({ backend });
      await idp.start(`${server.url}/federation/oidc/callback`);
      idp.people.set('alice', { email: 'alice@example.com', groups: ['ProductionAccess', 'NotInAirlock'], team: 'ops' });
      idp.people.set('bob', { email: 'bob@example.com', groups: [], team: 'dev' });
      idp.people.set('carol', { email: 'carol@example.com', groups: ['ProductionAccess'], team: 'dev' });
      account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: 'ProductionAccess' });
      const permissionSet = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProductionPermissionSet' })).PermissionSet.PermissionSetArn;
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'ssm:StartSession',
            Resource: '*',
            Condition: { StringEquals: { 'ssm:resourceTag/project': 'Production', 'aws:PrincipalTag/team': 'ops' } },
          },
        ],
      };
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: permissionSet, InlinePolicy: JSON.stringify(policy) });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: permissionSet, PrincipalType: 'GROUP', PrincipalId: GroupId });
      agent = await SimulatedAgent.register(server, [{ Key: 'project', Value: 'Production' }]);
      await agent.connect(server);
      await createPerson(server, 'admin');
      // A built-in user with a password whom the provider must not take over.
      await createPerson(server, 'bob');
    });

    after(async () => {
      agent.disconnect();
      await idp.stop();
      await server.stop();
    });

    const oidcSettings = () => ({
      Type: 'OIDC' as const,
      Oidc: { IssuerUrl: idp.issuer, ClientId: CLIENT_ID, ClientSecret: CLIENT_SECRET, Scopes: ['openid', 'profile', 'email', 'groups', 'team'], DisplayName: 'Test IdP' },
      AttributeMapping: { PrincipalTags: { team: 'team' } },
      MfaFromIdentitySource: 'TRUST_IDENTITY_SOURCE' as const,
      BreakGlassUserName: 'admin',
    });

    test('changing the source is explicit, needs a break-glass user, and checks the provider first', async () => {
      assert.deepEqual(await server.client().call(identitySources.GetSignInOptions, {}), { IdentitySourceType: 'BUILT_IN', PasswordSignIn: 'EVERYONE' });
      await refused(server.root.call(identitySources.PutIdentitySource, oidcSettings()), 'ValidationException', /ConfirmTypeChange OIDC/);
      const { BreakGlassUserName: _admin, ...withoutBreakGlass } = oidcSettings();
      await refused(server.root.call(identitySources.PutIdentitySource, { ...withoutBreakGlass, ConfirmTypeChange: 'OIDC' }), 'ValidationException', /BreakGlassUserName/);
      await refused(
        server.root.call(identitySources.PutIdentitySource, { ...oidcSettings(), BreakGlassUserName: 'nobody', ConfirmTypeChange: 'OIDC' }),
        'ValidationException',
        /built-in user/,
      );
      const remote = { ...oidcSettings(), Oidc: { ...oidcSettings().Oidc, IssuerUrl: 'http://idp.example.com' }, ConfirmTypeChange: 'OIDC' as const };
      await refused(server.root.call(identitySources.PutIdentitySource, remote), 'ValidationException', /https:\/\//);
      const unreachable = { ...oidcSettings(), Oidc: { ...oidcSettings().Oidc, IssuerUrl: 'http://127.0.0.1:9' }, ConfirmTypeChange: 'OIDC' as const };
      await refused(server.root.call(identitySources.PutIdentitySource, unreachable), 'ValidationException', /discovery/);
      assert.equal((await server.root.call(identitySources.GetIdentitySource, {})).Type, 'BUILT_IN');

      const bobSession = server.client(await signInToken(server, 'bob'));
      const adminSession = server.client(await signInToken(server, 'admin'));
      await server.root.call(identitySources.PutIdentitySource, { ...oidcSettings(), ConfirmTypeChange: 'OIDC' });
      // The change ends the sessions of built-in users, but the break-glass user's.
      await refused(bobSession.call(portal.GetSession, {}), 'UnauthorizedException');
      assert.equal((await adminSession.call(portal.GetSession, {})).UserName, 'admin');
      const stored = await server.root.call(identitySources.GetIdentitySource, {});
      assert.equal(stored.Type, 'OIDC');
      assert.equal(stored.HasClientSecret, true);
      assert.equal(stored.Oidc?.ClientId, CLIENT_ID);
      assert.equal(stored.CallbackUrl, `${server.url}/federation/oidc/callback`);
      assert.ok(!JSON.stringify(stored).includes(CLIENT_SECRET), 'the client secret is never returned');
      const settingRow = await server.server.services.db.selectFrom('settings').select('value').where('key', '=', 'identity_source').executeTakeFirstOrThrow();
      assert.ok(!settingRow.value.includes(CLIENT_SECRET), 'the client secret is sealed at rest');
      const audit = await server.server.services.db.selectFrom('audit_events').select('record').where('event_name', '=', 'PutIdentitySource').execute();
      assert.ok(audit.length > 0 && audit.every((row) => !row.record.includes(CLIENT_SECRET)), 'the audit trail hides the secret');
      // Updating the same type's settings needs no confirmation; leaving the secret out keeps it.
      const { ClientSecret: _secret, ...keepSecret } = oidcSettings().Oidc;
      await server.root.call(identitySources.PutIdentitySource, { ...oidcSettings(), Oidc: keepSecret });
      assert.equal((await server.root.call(identitySources.GetIdentitySource, {})).HasClientSecret, true);
      assert.deepEqual(await server.client().call(identitySources.GetSignInOptions, {}), {
        IdentitySourceType: 'OIDC',
        PasswordSignIn: 'BREAK_GLASS_ONLY',
        ExternalSignIn: { DisplayName: 'Test IdP', Url: `${server.url}/federation/oidc/start` },
      });
    });

    test('a federated user signs in with PKCE, is made just in time with mapped claims and groups, and starts a session', async () => {
      const { browser, landed } = await browserSignIn('alice', ['pwd', 'otp']);
      assert.equal(landed, `${server.url}/portal/accounts`);
      assert.equal(browser.cookie('airlock_federation'), undefined, 'the flow cookie is cleared');
      const session = await browser.call(server.url, portal.GetSession, {});
      assert.equal(session.status, 200, JSON.stringify(session.body));
      assert.equal(session.body.UserName, 'alice');
      assert.equal(session.body.MfaAuthenticated, true, "the provider's amr otp counts as MFA (TRUST_IDENTITY_SOURCE)");

      const { Users } = await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'alice' }] });
      const alice = Users[0] ?? assert.fail('alice was not made');
      assert.equal(alice.Emails?.[0]?.Value, 'alice@example.com');
      assert.equal(alice.DisplayName, 'Person alice');
      assert.deepEqual(alice.Attributes, { team: 'ops' });
      const groups = await server.root.call(identitystore.ListGroupMembershipsForMember, { MemberId: { UserId: alice.UserId } });
      assert.equal(groups.GroupMemberships.length, 1, 'ProductionAccess only: NotInAirlock is not an Airlock group');

      const roles = await browser.call(server.url, roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' });
      assert.equal(roles.status, 200, JSON.stringify(roles.body));
      const role = server.client(roles.body.RoleCredentials.AccessToken);
      const started = await role.call(sessions.StartSession, { Target: agent.instanceId });
      assert.match(started.SessionId, /^alice-[0-9a-f]{17}$/);
      await server.root.call(sessions.TerminateSession, { SessionId: started.SessionId });

      // The same group with another team tag: the policy's aws:PrincipalTag/team condition says no.
      const carol = await browserSignIn('carol', ['pwd', 'otp']);
      const carolRoles = await carol.browser.call(server.url, roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' });
      await refused(server.client(carolRoles.body.RoleCredentials.AccessToken).call(sessions.StartSession, { Target: agent.instanceId }), 'AccessDeniedException', /ssm:StartSession/);
    });

    test('removed from the group at the provider: no permission set at the next sign-in', async () => {
      const alice = idp.people.get('alice') ?? assert.fail();
      alice.groups = ['NotInAirlock'];
      const { browser } = await browserSignIn('alice', ['pwd', 'otp']);
      const accounts = await browser.call(server.url, roleSessions.ListAccounts, {});
      assert.deepEqual(accounts.body.AccountList, []);
      const roles = await browser.call(server.url, roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' });
      assert.notEqual(roles.status, 200);
      alice.groups = ['ProductionAccess'];
    });

    test("without MFA at the provider, Airlock's MFA follows: the sign-in page gets the challenge", async () => {
      const { landed } = await browserSignIn('alice', ['pwd']);
      const url = new URL(landed);
      assert.equal(url.pathname, '/portal/sign-in');
      const fragment = new URLSearchParams(url.hash.slice(1));
      assert.equal(fragment.get('challenge'), 'EMAIL_OTP');
      assert.equal(fragment.get('return_to'), '/portal/accounts');
      assert.match(fragment.get('parameters') ?? '', /"CODE_DELIVERY_DESTINATION":"[^"]+"/, 'the page gets what it needs to answer');
      const code = /code: (\d{6})/.exec(server.log.lines.filter((line) => line.includes('alice@example.com')).at(-1) ?? '')?.[1] ?? assert.fail('no code mailed');
      const done = await server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: fragment.get('session') ?? '', ChallengeResponses: { EMAIL_OTP_CODE: code } });
      assert.ok(done.AuthenticationResult?.AccessToken);
    });

    test('the redirect back works once, in the browser that started it, with the state it was given', async () => {
      idp.login = { accountId: 'alice', amr: ['pwd', 'otp'] };
      const browser = new CookieBrowser();
      const callback = await browser.follow(`${server.url}/federation/oidc/start`, (location) => location.includes('/federation/oidc/callback'));
      const callbackUrl = callback.location ?? assert.fail('the provider did not redirect back');
      const stranger = await new CookieBrowser().get(callbackUrl);
      assert.equal(stranger.status, 400, 'another browser (no flow cookie) is refused');
      const forged = new URL(callbackUrl);
      forged.searchParams.set('state', 'not-the-state');
      const tampered = await browser.get(forged.href);
      assert.equal(tampered.status, 401, tampered.body);
      assert.match(tampered.body, /state/);
      // The flow was used by the tampered attempt: the real redirect now finds nothing either.
      const replay = await browser.get(callbackUrl);
      assert.equal(replay.status, 400);
    });

    test('a built-in user with a password is not taken over by the provider', async () => {
      const browser = new CookieBrowser();
      idp.login = { accountId: 'bob', amr: ['pwd', 'otp'] };
      const page = await browser.follow(`${server.url}/federation/oidc/start`, isAirlockPage(server));
      assert.equal(page.status, 403);
      assert.match(page.body, /already exists and signs in another way/);
      const records = await server.server.services.db.selectFrom('audit_events').select('record').where('event_name', '=', 'ExternalSignIn').execute();
      const refusal = records.map((row) => JSON.parse(row.record) as { errorMessage?: string; requestParameters?: unknown }).find((record) => record.errorMessage?.startsWith('bob: ') === true);
      assert.ok(refusal !== undefined, 'the refused sign-in is in the audit trail');
      assert.deepEqual(refusal.requestParameters, { IdentitySourceType: 'OIDC' });
    });

    test('password sign-in is for the break-glass user only, and always with MFA', async () => {
      await server.root.call(portal.PutMfaSettings, { MfaMode: 'DISABLED', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'ALLOW' });
      const admin = await server.client().call(portal.InitiateAuth, { Username: 'admin', Password: TEST_PASSWORD });
      assert.equal(admin.AuthenticationResult, undefined, 'the break-glass user gets MFA even with MFA disabled');
      assert.equal(admin.ChallengeName, 'MFA_SETUP');
      await refused(server.client().call(portal.InitiateAuth, { Username: 'bob', Password: TEST_PASSWORD }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
      await server.root.call(portal.PutMfaSettings, { MfaMode: 'ALWAYS_ON', AllowedMfaTypes: ['AUTHENTICATOR_APP'], NoDeviceAction: 'EMAIL_OTP' });
    });

    test("a new issuer: people it names keep their Airlock users (the previous source's links are stale)", async () => {
      const before = (await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'alice' }] })).Users[0]?.UserId;
      const other = new TestProvider();
      await other.start(`${server.url}/federation/oidc/callback`);
      try {
        other.people.set('alice', { email: 'alice@example.org', groups: ['ProductionAccess'], team: 'ops' });
        await server.root.call(identitySources.PutIdentitySource, { ...oidcSettings(), Oidc: { ...oidcSettings().Oidc, IssuerUrl: other.issuer } });
        const { browser } = await browserSignIn('alice', ['pwd', 'otp'], other);
        const session = await browser.call(server.url, portal.GetSession, {});
        assert.equal(session.body.UserId, before);
        const alice = (await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'alice' }] })).Users[0];
        assert.equal(alice?.Emails?.[0]?.Value, 'alice@example.org');
      } finally {
        await server.root.call(identitySources.PutIdentitySource, oidcSettings());
        await other.stop();
      }
    });

    test('back to the built-in directory, with confirmation', async () => {
      const { browser } = await browserSignIn('alice', ['pwd', 'otp']);
      assert.equal((await browser.call(server.url, portal.GetSession, {})).status, 200);
      await refused(server.root.call(identitySources.PutIdentitySource, { Type: 'BUILT_IN' }), 'ValidationException', /ConfirmTypeChange BUILT_IN/);
      await server.root.call(identitySources.PutIdentitySource, { Type: 'BUILT_IN', ConfirmTypeChange: 'BUILT_IN' });
      assert.equal((await browser.call(server.url, portal.GetSession, {})).status, 401, "the federated user's session ended with the change");
      const page = await new CookieBrowser().get(`${server.url}/federation/oidc/start`);
      assert.equal(page.status, 404);
      const bob = await server.client().call(portal.InitiateAuth, { Username: 'bob', Password: TEST_PASSWORD });
      assert.equal(bob.ChallengeName, 'EMAIL_OTP');
    });
  });
}
