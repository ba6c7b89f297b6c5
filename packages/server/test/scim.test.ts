/**
 * SCIM 2.0 provisioning (RFC 7643/7644) through HTTP against the real server, on both storage
 * backends: the bearer tokens, discovery, users and groups landing in the same identity store
 * as identitystore:*, PATCH as Okta and Azure AD send it, deactivation ending a person's access,
 * the audit trail, and the lockout of an address that keeps presenting wrong tokens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { cloudtrail, identitySources, identitystore, organizations, portal, roleSessions, scimTokens, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, createPerson, refused, roleSession, signIn, startTestServer, type TestServer } from '@airlock/testkit';
import { makeSigningKey } from './saml-idp.js';

type Json = Record<string, unknown>;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface Answer {
  readonly status: number;
  readonly body: Json;
  readonly headers: Headers;
}

for (const backend of BACKENDS) {
  describe(`SCIM provisioning on ${backend}`, () => {
    let server: TestServer;
    let token: string;
    let tokenId: string;
    let endpoint: string;

    async function scim(method: string, path: string, body?: unknown, bearer: string = token): Promise<Answer> {
      const response = await fetch(`${endpoint}${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Json), headers: response.headers };
    }

    function assertScimError(answer: Answer, status: number, scimType?: string): void {
      assert.equal(answer.status, status, JSON.stringify(answer.body));
      assert.deepEqual(answer.body['schemas'], [ERROR]);
      assert.equal(answer.body['status'], String(status));
      if (scimType !== undefined) assert.equal(answer.body['scimType'], scimType);
      assert.equal(typeof answer.body['detail'], 'string');
    }

    async function findUserId(userName: string): Promise<string> {
      const list = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
      const found = (list.body['Resources'] as Json[])[0];
      assert.ok(found !== undefined, `${userName} is not listed`);
      return found['id'] as string;
    }

    before(async () => {
      server = await startTestServer({ backend });
      const created = await server.root.call(scimTokens.CreateScimAccessToken, {});
      token = created.AccessToken;
      tokenId = created.TokenId;
      endpoint = created.ScimEndpoint;
      assert.equal(endpoint, `${server.url}/scim/v2`);
    });
    after(async () => {
      await server.stop();
    });

    test('tokens: 256-bit, shown once, listed without their value, at most 2 live, revocable', async () => {
      assert.match(token, /^alscim_[A-Za-z0-9_-]{43}$/);
      assert.equal((await scim('GET', '/ServiceProviderConfig')).status, 200);
      const listed = await server.root.call(scimTokens.ListScimAccessTokens, {});
      assert.deepEqual(listed.Tokens.map((entry) => entry.TokenId), [tokenId]);
      assert.ok(!JSON.stringify(listed).includes(token.slice(7)));
      assert.equal(listed.Tokens[0]?.LastUsedDate, server.clock.now() / 1000);
      const second = await server.root.call(scimTokens.CreateScimAccessToken, { ExpiresInDays: 1 });
      await refused(server.root.call(scimTokens.CreateScimAccessToken, {}), 'LimitExceededException', /already 2 live SCIM tokens/);
      assert.equal((await scim('GET', '/Schemas', undefined, second.AccessToken)).status, 200);
      await server.root.call(scimTokens.DeleteScimAccessToken, { TokenId: second.TokenId });
      assertScimError(await scim('GET', '/Schemas', undefined, second.AccessToken), 401);
      assertScimError(await scim('GET', '/Users', undefined, 'not-a-token'), 401);
      // A role session without sso:CreateScimAccessToken cannot make one.
      await createPerson(server, 'tokenless');
      const account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      const group = (await server.root.call(identitystore.CreateGroup, { DisplayName: 'Readers' })).GroupId;
      const reader = await server.root.call(identitystore.GetUserId, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'UserName', AttributeValue: 'tokenless' } } });
      await server.root.call(identitystore.CreateGroupMembership, { GroupId: group, MemberId: { UserId: reader.UserId } });
      const readOnly = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ReadOnly' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, {
        PermissionSetArn: readOnly,
        InlinePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'identitystore:List*', Resource: '*' }] }),
      });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: readOnly, PrincipalType: 'GROUP', PrincipalId: group });
      const role = await roleSession(server, await signIn(server, 'tokenless'), account, 'ReadOnly');
      await refused(role.call(scimTokens.CreateScimAccessToken, {}), 'AccessDeniedException', /sso:CreateScimAccessToken/);
    });

    test('discovery: ServiceProviderConfig, ResourceTypes and Schemas', async () => {
      const config = await scim('GET', '/ServiceProviderConfig');
      assert.match(config.headers.get('content-type') ?? '', /^application\/scim\+json/);
      assert.deepEqual([config.body['patch'], config.body['bulk'], config.body['filter']], [{ supported: true }, { supported: false, maxOperations: 0, maxPayloadSize: 0 }, { supported: true, maxResults: 100 }]);
      const types = await scim('GET', '/ResourceTypes');
      assert.deepEqual((types.body['Resources'] as Json[]).map((type) => [type['name'], type['endpoint'], type['schema']]), [['User', '/Users', USER], ['Group', '/Groups', GROUP]]);
      assert.equal((await scim('GET', '/ResourceTypes/Group')).body['endpoint'], '/Groups');
      const user = await scim('GET', `/Schemas/${USER}`);
      const userName = (user.body['attributes'] as Json[]).find((attribute) => attribute['name'] === 'userName');
      assert.deepEqual([userName?.['required'], userName?.['uniqueness']], [true, 'server']);
      assert.equal(((await scim('GET', '/Schemas')).body['Resources'] as Json[]).length, 2);
      assertScimError(await scim('GET', '/Schemas/urn:nope'), 404);
      assertScimError(await scim('GET', '/Nothing'), 404);
    });

    test('users: create, find by userName, read, replace, patch; the same user in identitystore', async () => {
      const created = await scim('POST', '/Users', {
        schemas: [USER],
        externalId: '00u1abcd',
        userName: 'jdoe@example.com',
        name: { givenName: 'Jane', familyName: 'Doe' },
        displayName: 'Jane Doe',
        title: 'Engineer',
        emails: [{ value: 'jdoe@example.com', type: 'work', primary: true }],
        active: true,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body['id'] as string;
      assert.equal(created.headers.get('location'), `${endpoint}/Users/${id}`);
      assert.deepEqual(created.body['meta'], {
        resourceType: 'User',
        created: new Date(server.clock.now()).toISOString(),
        lastModified: new Date(server.clock.now()).toISOString(),
        location: `${endpoint}/Users/${id}`,
      });
      assert.deepEqual(
        [created.body['userName'], created.body['externalId'], created.body['name'], created.body['active'], created.body['emails']],
        ['jdoe@example.com', '00u1abcd', { givenName: 'Jane', familyName: 'Doe' }, true, [{ value: 'jdoe@example.com', type: 'work', primary: true }]],
      );
      assertScimError(await scim('POST', '/Users', { schemas: [USER], userName: 'JDOE@example.com' }), 409, 'uniqueness');
      // Providers retry in parallel: of the same name created at once, one wins and the others get 409, never 500.
      const racing = await Promise.all([1, 2, 3, 4].map(() => scim('POST', '/Users', { schemas: [USER], userName: 'racer' })));
      assert.deepEqual(racing.map((answer) => answer.status).sort(), [201, 409, 409, 409]);
      assertScimError(await scim('POST', '/Users', { schemas: [USER], userName: 'two', emails: [{ value: 'a@example.com' }, { value: 'b@example.com' }] }), 400, 'invalidValue');
      assertScimError(await scim('POST', '/Users', { schemas: [USER] }), 400, 'invalidValue');
      assert.equal(await findUserId('JDoe@Example.com'), id);
      const byExternal = await scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "00u1abcd"')}`);
      assert.deepEqual([byExternal.body['totalResults'], (byExternal.body['Resources'] as Json[])[0]?.['id']], [1, id]);
      const none = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody"')}`);
      assert.deepEqual([none.body['totalResults'], none.body['Resources']], [0, []]);
      assertScimError(await scim('GET', `/Users?filter=${encodeURIComponent('title co "Eng"')}`), 400, 'invalidFilter');
      assertScimError(await scim('GET', '/Users/00000000-0000-0000-0000-000000000000'), 404);

      const described = await server.root.call(identitystore.DescribeUser, { UserId: id });
      assert.deepEqual([described.UserName, described.DisplayName, described.Name?.GivenName, described.Emails?.[0]?.Value], ['jdoe@example.com', 'Jane Doe', 'Jane', 'jdoe@example.com']);

      server.clock.advance(60_000);
      const replaced = await scim('PUT', `/Users/${id}`, { schemas: [USER], userName: 'jdoe@example.com', name: { givenName: 'Jane', familyName: 'Roe' }, emails: [{ value: 'jroe@example.com', type: 'work', primary: true }] });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.equal(replaced.body['title'], undefined, 'PUT clears what it leaves out');
      assert.equal((replaced.body['meta'] as Json)['lastModified'], new Date(server.clock.now()).toISOString());

      // Okta's PATCH (lower-case op, sub-attribute paths) and Azure AD's (capitalised op, a filter path).
      const patched = await scim('PATCH', `/Users/${id}`, {
        schemas: [PATCH],
        Operations: [
          { op: 'replace', path: 'name.givenName', value: 'Janet' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'janet@example.com' },
          { op: 'add', value: { title: 'Staff Engineer', 'name.familyName': 'Doe', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D' } } },
          { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', value: '42' },
        ],
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual([patched.body['name'], patched.body['title']], [{ givenName: 'Janet', familyName: 'Doe' }, 'Staff Engineer']);
      assert.deepEqual(patched.body['emails'], [{ value: 'janet@example.com', type: 'work', primary: true }]);
      assertScimError(await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'move', path: 'title' }] }), 400, 'invalidValue');
      assertScimError(await scim('PATCH', `/Users/${id}`, { Operations: [] }), 400, 'invalidSyntax');
      assert.equal((await server.root.call(identitystore.DescribeUser, { UserId: id })).Name?.GivenName, 'Janet');

      const removed = await scim('DELETE', `/Users/${id}`);
      assert.equal(removed.status, 204);
      assertScimError(await scim('GET', `/Users/${id}`), 404);
      await refused(server.root.call(identitystore.DescribeUser, { UserId: id }), 'ResourceNotFoundException', /does not exist/);
    });

    test('groups: create with members, find by displayName, add and remove members, rename, delete', async () => {
      const alice = (await scim('POST', '/Users', { schemas: [USER], userName: 'alice' })).body['id'] as string;
      const bob = (await scim('POST', '/Users', { schemas: [USER], userName: 'bob' })).body['id'] as string;
      const carol = (await scim('POST', '/Users', { schemas: [USER], userName: 'carol' })).body['id'] as string;
      const created = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Engineering', externalId: 'grp-1', members: [{ value: alice }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body['id'] as string;
      assert.deepEqual((created.body['members'] as Json[]).map((member) => [member['value'], member['display']]), [[alice, 'alice']]);
      assertScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'engineering' }), 409, 'uniqueness');
      assertScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Ghosts', members: [{ value: 'no-such-user' }] }), 400, 'invalidValue');
      const found = await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "ENGINEERING"')}&excludedAttributes=members`);
      assert.deepEqual([found.body['totalResults'], (found.body['Resources'] as Json[])[0]?.['id'], (found.body['Resources'] as Json[])[0]?.['members']], [1, id, undefined]);

      const members = async (): Promise<string[]> =>
        (await server.root.call(identitystore.ListGroupMemberships, { GroupId: id })).GroupMemberships.map((membership) => membership.MemberId?.UserId ?? '').sort();
      const add = await scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: bob }, { value: carol }, { value: alice }] }] });
      assert.equal(add.status, 200, JSON.stringify(add.body));
      assert.deepEqual(await members(), [alice, bob, carol].sort());
      // Okta removes with a filter path; Azure AD with the members in the value.
      await scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${bob}"]` }] });
      await scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'Remove', path: 'members', value: [{ value: carol }] }] });
      assert.deepEqual(await members(), [alice]);
      const renamed = await scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { displayName: 'Platform' } }] });
      assert.deepEqual([renamed.body['displayName'], (renamed.body['members'] as Json[]).length], ['Platform', 1]);
      assert.equal((await server.root.call(identitystore.DescribeGroup, { GroupId: id })).DisplayName, 'Platform');
      const emptied = await scim('PATCH', `/Groups/${id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'members' }] });
      assert.equal(emptied.status, 200);
      assert.deepEqual(await members(), []);
      const put = await scim('PUT', `/Groups/${id}`, { schemas: [GROUP], displayName: 'Platform', members: [{ value: bob }] });
      assert.equal(put.status, 200);
      assert.deepEqual(await members(), [bob]);
      assert.equal((await scim('DELETE', `/Groups/${id}`)).status, 204);
      assertScimError(await scim('GET', `/Groups/${id}`), 404);
      assertScimError(await scim('DELETE', `/Groups/${id}`), 404);
    });

    test("deactivating a user ends their sessions and sign-in; a group removed takes the group's permission set away", async () => {
      const account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      await createPerson(server, 'deactivated01');
      const userId = await findUserId('deactivated01');
      const group = (await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Operators', members: [{ value: userId }] })).body['id'] as string;
      const operators = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'Operators' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: operators, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: operators, PrincipalType: 'GROUP', PrincipalId: group });
      const person: AirlockClient = await signIn(server, 'deactivated01');
      const role = await roleSession(server, person, account, 'Operators');
      await role.call(identitystore.ListUsers, {});

      // Azure AD's deactivation: capitalised op, no path, the boolean as a string.
      const off = await scim('PATCH', `/Users/${userId}`, { schemas: [PATCH], Operations: [{ op: 'Replace', value: { active: 'False' } }] });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal(off.body['active'], false);
      await refused(role.call(identitystore.ListUsers, {}), 'UnauthorizedException', /not valid/);
      await refused(person.call(portal.GetSession, {}), 'UnauthorizedException', /not valid/);
      await refused(signIn(server, 'deactivated01'), 'NotAuthorizedException', /User is disabled/);
      const inactive = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "deactivated01"')}`);
      assert.equal((inactive.body['Resources'] as Json[])[0]?.['active'], false);

      const on = await scim('PATCH', `/Users/${userId}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: true }] });
      assert.equal(on.body['active'], true);
      const again = await signIn(server, 'deactivated01');
      const roleAgain = await roleSession(server, again, account, 'Operators');
      await roleAgain.call(identitystore.ListUsers, {});
      await scim('PATCH', `/Groups/${group}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${userId}"]` }] });
      const roles = await again.call(roleSessions.ListAccountRoles, { AccountId: account });
      assert.deepEqual(roles.RoleList, []);
      await refused(again.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'Operators' }), 'AccessDeniedException', /no permission set Operators/);
    });

    test('the break-glass user of an external identity source is out of SCIM\'s reach', async () => {
      await createPerson(server, 'breakglass');
      const id = await findUserId('breakglass');
      const settings = await server.root.call(identitySources.GetIdentitySource, {});
      assert.equal(settings.Type, 'BUILT_IN');
      // Under the built-in directory there is no break-glass user: SCIM may change this one.
      assert.equal((await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Admin' }] })).status, 200);
      await server.root.call(identitySources.PutIdentitySource, {
        Type: 'SAML',
        ConfirmTypeChange: 'SAML',
        Saml: { IdpEntityId: 'https://idp.example.test', IdpSsoUrl: 'https://idp.example.test/sso', IdpSigningCertificates: [makeSigningKey('scim-test-idp').certificate] },
        BreakGlassUserName: 'breakglass',
      });
      assertScimError(await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] }), 403);
      assertScimError(await scim('DELETE', `/Users/${id}`), 403);
      assert.equal((await scim('GET', `/Users/${id}`)).body['active'], true);
      await server.root.call(identitySources.PutIdentitySource, { Type: 'BUILT_IN', ConfirmTypeChange: 'BUILT_IN' });
    });

    test('every SCIM call is in the audit trail as identitystore-scim, with the token id and no personal data', async () => {
      await scim('POST', '/Users', { schemas: [USER], userName: 'audited', emails: [{ value: 'secret-person@example.com', primary: true }] });
      const events = async (name: string) =>
        (await server.root.call(cloudtrail.LookupEvents, { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: name }], MaxResults: 50 })).Events.filter(
          (event) => event.EventSource === 'identitystore-scim.amazonaws.com',
        );
      const created = await events('CreateUser');
      const record = JSON.parse(created[0]?.CloudTrailEvent ?? assert.fail('no CreateUser record')) as { userIdentity: Json; requestParameters: { httpBody: Json }; responseElements: Json; readOnly: boolean };
      assert.deepEqual([record.userIdentity['type'], record.userIdentity['accessKeyId'], record.readOnly], ['WebIdentityUser', tokenId, false]);
      assert.equal(record.requestParameters.httpBody['userName'], 'HIDDEN_DUE_TO_SECURITY_REASONS');
      assert.equal(typeof record.responseElements['id'], 'string');
      assert.ok(!created.some((event) => event.CloudTrailEvent.includes('secret-person')), 'no email in the trail');
      assert.ok((await events('PatchUser')).length > 0);
      const config = await events('GetServiceProviderConfig');
      assert.ok(config.length > 0 && config.every((event) => event.CloudTrailEvent.includes('"readOnly":true')));
    });

    test('an address that keeps presenting wrong tokens is locked out (429), the right token included', async () => {
      // Two wrong tokens were presented above (a deleted one, a malformed one): 18 more make 20.
      for (let attempt = 0; attempt < 18; attempt++) assertScimError(await scim('GET', '/Users', undefined, `alscim_wrong${attempt}`), 401);
      assertScimError(await scim('GET', '/Users'), 429);
      server.clock.advance(61_000);
      assert.equal((await scim('GET', '/Users')).status, 200);
    });
  });
}
