/**
 * LDAP as the identity source, against a real slapd (started by the test, its own config and
 * port) with nested groups: passwords checked by binding as the user through the normal
 * InitiateAuth, Airlock's MFA after it, groups found through nesting (recursive search; AD's
 * in-chain rule is checked as filter text, since OpenLDAP does not implement it), a session
 * started with the nested group's permission set, and a user removed from the group or from
 * the directory losing access at the next sign-in. TLS: plain LDAP only to loopback; StartTLS
 * with the directory's CA; filters that cannot be injected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { identitySources, identitystore, organizations, portal, roleSessions, sessions, ssoAdmin } from '@airlock/protocol';
import { entryFilter, groupFilter } from '@airlock/server/identity/sources/ldap';
import { BACKENDS, createPerson, refused, SimulatedAgent, startSlapd, startTestServer, type TestServer, type TestSlapd } from '@airlock/testkit';

const TIMEOUT = { timeout: 90_000 };
const SUFFIX = 'dc=example,dc=com';
const ADMIN_PASSWORD = 'directory admin password';
const READER_PASSWORD = 'reader password for searches';
const PASSWORDS = { dave: 'dave long password', erin: 'erin long password', frank: 'frank long password' };

const person = (uid: keyof typeof PASSWORDS, team: string) => `dn: uid=${uid},ou=people,${SUFFIX}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${uid}
displayName: ${uid[0]?.toUpperCase() ?? ''}${uid.slice(1)} Example
sn: Example
givenName: ${uid}
mail: ${uid}@example.com
employeeType: ${team}
userPassword: ${PASSWORDS[uid]}
`;

const group = (cn: string, members: readonly string[]) => `dn: cn=${cn},ou=groups,${SUFFIX}
objectClass: groupOfNames
cn: ${cn}
${members.map((member) => `member: ${member}`).join('\n')}
`;

const uidDn = (uid: string) => `uid=${uid},ou=people,${SUFFIX}`;
const groupDn = (cn: string) => `cn=${cn},ou=groups,${SUFFIX}`;

const LDIF = [
  `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
  `dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ou=groups,${SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n`,
  `dn: ou=services,${SUFFIX}\nobjectClass: organizationalUnit\nou: services\n`,
  `dn: cn=airlock-reader,ou=services,${SUFFIX}\nobjectClass: person\ncn: airlock-reader\nsn: reader\nuserPassword: ${READER_PASSWORD}\n`,
  person('dave', 'ops'),
  person('erin', 'ops'),
  person('frank', 'dev'),
  // ProductionAccess holds a group, which holds the people: nesting.
  group('ProductionAccess', [groupDn('ops-team')]),
  group('ops-team', [uidDn('dave'), uidDn('erin')]),
  group('DevelopmentAccess', [uidDn('frank')]),
  // A cycle: the recursive search must end.
  group('loop-a', [groupDn('loop-b')]),
  group('loop-b', [groupDn('loop-a'), uidDn('frank')]),
].join('\n');

describe('LDAP filters', () => {
  test('values are escaped (RFC 4515): a user name cannot widen or end the filter', () => {
    assert.equal(entryFilter('person', 'uid', 'dave'), '(&(objectClass=person)(uid=dave))');
    assert.equal(entryFilter('person', 'uid', '*)(uid=*'), '(&(objectClass=person)(uid=\\2a\\29\\28uid=\\2a))');
    assert.equal(entryFilter('person', 'uid', 'a\\b\0'), '(&(objectClass=person)(uid=a\\5cb\\00))');
  });

  test("Active Directory's nested groups in one search: LDAP_MATCHING_RULE_IN_CHAIN on the member attribute", () => {
    assert.equal(
      groupFilter('group', 'member', ['CN=Dave (ops),OU=People,DC=corp,DC=example'], true),
      '(&(objectClass=group)(member:1.2.840.113556.1.4.1941:=CN=Dave \\28ops\\29,OU=People,DC=corp,DC=example))',
    );
    assert.equal(groupFilter('groupOfNames', 'member', ['cn=a', 'cn=b'], false), '(&(objectClass=groupOfNames)(|(member=cn=a)(member=cn=b)))');
  });
});

for (const backend of BACKENDS) {
  describe(`LDAP identity source on ${backend}`, TIMEOUT, () => {
    let server: TestServer;
    let slapd: TestSlapd;
    let account: string;
    let agent: SimulatedAgent;

    const ldapSettings = () => ({
      Type: 'LDAP' as const,
      Ldap: { Url: slapd.url, BindDn: `cn=airlock-reader,ou=services,${SUFFIX}`, BindPassword: READER_PASSWORD, UserSearchBase: `ou=people,${SUFFIX}`, GroupSearchBase: `ou=groups,${SUFFIX}` },
      AttributeMapping: { PrincipalTags: { team: 'employeeType' } },
      BreakGlassUserName: 'admin',
    });

    /** Signs in with the directory password and the code Airlock mails; the portal token. */
    async function signIn(userName: string, password: string): Promise<string> {
      const first = await server.client().call(portal.InitiateAuth, { Username: userName, Password: password });
      assert.equal(first.ChallengeName, 'EMAIL_OTP', "Airlock's MFA follows the directory's password");
      const code = /code: (\d{6})/.exec(server.log.lines.filter((line) => line.includes(`${userName}@example.com`)).at(-1) ?? '')?.[1] ?? assert.fail('no code mailed');
      const done = await server.client().call(portal.RespondToAuthChallenge, { ChallengeName: 'EMAIL_OTP', Session: first.Session ?? '', ChallengeResponses: { EMAIL_OTP_CODE: code } });
      return done.AuthenticationResult?.AccessToken ?? assert.fail('no token');
    }

    async function asAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
      const client = new Client({ url: slapd.url, timeout: 5_000, connectTimeout: 5_000 });
      try {
        await client.bind(`cn=admin,${SUFFIX}`, ADMIN_PASSWORD);
        return await work(client);
      } finally {
        await client.unbind();
      }
    }

    before(async () => {
      slapd = await startSlapd({ suffix: SUFFIX, rootPassword: ADMIN_PASSWORD, ldif: LDIF, tls: true });
      server = await startTestServer({ backend });
      account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      const { GroupId } = await server.root.call(identitystore.CreateGroup, { DisplayName: 'ProductionAccess' });
      await server.root.call(identitystore.CreateGroup, { DisplayName: 'DevelopmentAccess' });
      const permissionSet = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProductionPermissionSet' })).PermissionSet.PermissionSetArn;
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:StartSession', Resource: '*', Condition: { StringEquals: { 'ssm:resourceTag/project': 'Production', 'aws:PrincipalTag/team': 'ops' } } }] };
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: permissionSet, InlinePolicy: JSON.stringify(policy) });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: permissionSet, PrincipalType: 'GROUP', PrincipalId: GroupId });
      agent = await SimulatedAgent.register(server, [{ Key: 'project', Value: 'Production' }]);
      await agent.connect(server);
      await createPerson(server, 'admin');
    });

    after(async () => {
      agent.disconnect();
      await server.stop();
      await slapd.stop();
    });

    test('the settings: TLS outside loopback, a search account that works, an explicit change', async () => {
      const plainRemote = { ...ldapSettings(), Ldap: { ...ldapSettings().Ldap, Url: 'ldap://ldap.example.com' }, ConfirmTypeChange: 'LDAP' as const };
      await refused(server.root.call(identitySources.PutIdentitySource, plainRemote), 'ValidationException', /in the clear/);
      const badBind = { ...ldapSettings(), Ldap: { ...ldapSettings().Ldap, BindPassword: 'wrong' }, ConfirmTypeChange: 'LDAP' as const };
      await refused(server.root.call(identitySources.PutIdentitySource, badBind), 'ValidationException', /could not be searched/);
      const injected = { ...ldapSettings(), Ldap: { ...ldapSettings().Ldap, UserNameAttribute: 'uid:1.2.3:' }, ConfirmTypeChange: 'LDAP' as const };
      await refused(server.root.call(identitySources.PutIdentitySource, injected), 'ValidationException', /attribute name/);
      await refused(server.root.call(identitySources.PutIdentitySource, ldapSettings()), 'ValidationException', /ConfirmTypeChange LDAP/);
      // StartTLS with a certificate nobody vouches for is refused; with its CA it is used.
      const untrusted = { ...ldapSettings(), Ldap: { ...ldapSettings().Ldap, StartTls: true }, ConfirmTypeChange: 'LDAP' as const };
      await refused(server.root.call(identitySources.PutIdentitySource, untrusted), 'ValidationException', /could not be searched/);
      await server.root.call(identitySources.PutIdentitySource, { ...untrusted, Ldap: { ...untrusted.Ldap, CaCertificate: slapd.certificate ?? '' } });
      const stored = await server.root.call(identitySources.GetIdentitySource, {});
      assert.equal(stored.HasBindPassword, true);
      assert.ok(!JSON.stringify(stored).includes(READER_PASSWORD));
      assert.deepEqual(await server.client().call(identitySources.GetSignInOptions, {}), { IdentitySourceType: 'LDAP', PasswordSignIn: 'EVERYONE' });
    });

    test('a directory user signs in through InitiateAuth over StartTLS, gets the nested group and its permission set, and starts a session', async () => {
      const token = await signIn('dave', PASSWORDS.dave);
      const dave = server.client(token);
      assert.equal((await dave.call(portal.GetSession, {})).MfaAuthenticated, true);
      const { Users } = await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'dave' }] });
      const user = Users[0] ?? assert.fail('dave was not made');
      assert.equal(user.Emails?.[0]?.Value, 'dave@example.com');
      assert.equal(user.DisplayName, 'Dave Example');
      assert.deepEqual(user.Attributes, { team: 'ops' });
      const { RoleCredentials } = await dave.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' });
      const started = await server.client(RoleCredentials.AccessToken).call(sessions.StartSession, { Target: agent.instanceId });
      assert.match(started.SessionId, /^dave-[0-9a-f]{17}$/);
      await server.root.call(sessions.TerminateSession, { SessionId: started.SessionId });
    });

    test('wrong passwords, unknown names and filter tricks get the same answer', async () => {
      const wrong = /^Incorrect username or password\.$/;
      await refused(server.client().call(portal.InitiateAuth, { Username: 'dave', Password: 'not the password' }), 'NotAuthorizedException', wrong);
      await refused(server.client().call(portal.InitiateAuth, { Username: 'nobody', Password: PASSWORDS.dave }), 'NotAuthorizedException', wrong);
      await refused(server.client().call(portal.InitiateAuth, { Username: '*', Password: PASSWORDS.dave }), 'NotAuthorizedException', wrong);
      await refused(server.client().call(portal.InitiateAuth, { Username: 'dav*', Password: PASSWORDS.dave }), 'NotAuthorizedException', wrong);
    });

    test('nesting with a cycle ends; only groups Airlock has count', async () => {
      const frank = server.client(await signIn('frank', PASSWORDS.frank));
      const { Users } = await server.root.call(identitystore.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'frank' }] });
      const memberships = await server.root.call(identitystore.ListGroupMembershipsForMember, { MemberId: { UserId: Users[0]?.UserId ?? '' } });
      assert.equal(memberships.GroupMemberships.length, 1, 'DevelopmentAccess; loop-a and loop-b are not Airlock groups');
      assert.deepEqual((await frank.call(roleSessions.ListAccounts, {})).AccountList, []);
    });

    test('removed from the nested group in the directory: no permission set at the next sign-in; removed from the directory: no sign-in', async () => {
      await asAdmin((client) => client.modify(groupDn('ops-team'), new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [uidDn('dave')] }) })));
      const dave = server.client(await signIn('dave', PASSWORDS.dave));
      assert.deepEqual((await dave.call(roleSessions.ListAccounts, {})).AccountList, []);
      await refused(dave.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' }), 'AccessDeniedException');
      await asAdmin((client) => client.del(uidDn('dave')));
      await refused(server.client().call(portal.InitiateAuth, { Username: 'dave', Password: PASSWORDS.dave }), 'NotAuthorizedException', /^Incorrect username or password\.$/);
    });

    test('the break-glass user keeps the built-in password', async () => {
      const admin = await server.client().call(portal.InitiateAuth, { Username: 'admin', Password: 'a long test passphrase' });
      assert.equal(admin.ChallengeName, 'EMAIL_OTP');
    });
  });
}
