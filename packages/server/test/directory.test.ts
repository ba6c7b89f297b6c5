/**
 * The identitystore API end to end, over HTTP against a real server, on SQLite and PostgreSQL:
 * the same operations must behave the same on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { identitystore as api } from '@airlock/protocol';
import { BACKENDS, refused, startTestServer, type TestServer } from '@airlock/testkit';

for (const backend of BACKENDS) {
  describe(`identitystore on ${backend}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
    });
    after(async () => {
      await server.stop();
    });

    test('CreateUser, DescribeUser and GetUserId find the same user; names are unique without case', async () => {
      const created = await server.root.call(api.CreateUser, {
        UserName: 'testuser01',
        DisplayName: 'Test User01',
        Name: { GivenName: 'Test', FamilyName: 'User01' },
        Emails: [{ Value: 't1@example.com', Primary: true }],
        PasswordSetup: 'NONE',
      });
      const user = await server.root.call(api.DescribeUser, { UserId: created.UserId });
      assert.deepEqual(user, {
        IdentityStoreId: created.IdentityStoreId,
        UserId: created.UserId,
        UserName: 'testuser01',
        DisplayName: 'Test User01',
        Name: { GivenName: 'Test', FamilyName: 'User01' },
        Emails: [{ Value: 't1@example.com', Primary: true }],
      });
      const byName = await server.root.call(api.GetUserId, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'UserName', AttributeValue: 'TESTUSER01' } } });
      assert.equal(byName.UserId, created.UserId);
      const byEmail = await server.root.call(api.GetUserId, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'T1@example.com' } } });
      assert.equal(byEmail.UserId, created.UserId);
      await refused(server.root.call(api.CreateUser, { UserName: 'TestUser01', PasswordSetup: 'NONE' }), 'ConflictException', /Duplicate UserName: the user testuser01 exists/);
    });

    test('UpdateUser sets and clears attributes by path and keeps the rest', async () => {
      const { UserId } = await server.root.call(api.CreateUser, { UserName: 'update-me', DisplayName: 'Before', Name: { GivenName: 'A', FamilyName: 'B' } });
      await server.root.call(api.UpdateUser, {
        UserId,
        Operations: [
          { AttributePath: 'displayName', AttributeValue: 'After' },
          { AttributePath: 'name.givenName', AttributeValue: 'Z' },
          { AttributePath: 'title', AttributeValue: 'Engineer' },
        ],
      });
      await server.root.call(api.UpdateUser, { UserId, Operations: [{ AttributePath: 'title' }] });
      const user = await server.root.call(api.DescribeUser, { UserId });
      assert.equal(user.DisplayName, 'After');
      assert.deepEqual(user.Name, { GivenName: 'Z', FamilyName: 'B' });
      assert.equal(user.Title, undefined);
      await refused(server.root.call(api.UpdateUser, { UserId, Operations: [{ AttributePath: 'userName', AttributeValue: 'x' }] }), 'ValidationException', /UserName cannot be changed/);
      await refused(server.root.call(api.UpdateUser, { UserId, Operations: [{ AttributePath: 'displayName', AttributeValue: 42 }] }), 'ValidationException', /DisplayName must be a string/);
    });

    test('ListUsers pages in name order and filters on UserName', async () => {
      for (const name of ['page-c', 'page-a', 'page-b']) await server.root.call(api.CreateUser, { UserName: name });
      const names: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const result = await server.root.call(api.ListUsers, { MaxResults: 2, ...(token === undefined ? {} : { NextToken: token }) });
        names.push(...result.Users.map((user) => user.UserName ?? ''));
        token = result.NextToken;
        pages++;
      } while (token !== undefined && pages < 20);
      const pageNames = names.filter((name) => name.startsWith('page-'));
      assert.deepEqual(pageNames, ['page-a', 'page-b', 'page-c']);
      assert.deepEqual([...names].sort(), names, 'sorted');
      const filtered = await server.root.call(api.ListUsers, { Filters: [{ AttributePath: 'UserName', AttributeValue: 'PAGE-B' }] });
      assert.deepEqual(filtered.Users.map((user) => user.UserName), ['page-b']);
      await refused(server.root.call(api.ListUsers, { NextToken: 'garbage' }), 'ValidationException', /NextToken/);
    });

    test('groups and memberships: create, list, check, and cascade on delete', async () => {
      const { GroupId } = await server.root.call(api.CreateGroup, { DisplayName: 'ProductionAccess', Description: 'Production servers' });
      const other = await server.root.call(api.CreateGroup, { DisplayName: 'DevelopmentAccess' });
      await refused(server.root.call(api.CreateGroup, { DisplayName: 'productionaccess' }), 'ConflictException', /Duplicate DisplayName: the group ProductionAccess exists/);
      const { UserId } = await server.root.call(api.CreateUser, { UserName: 'member01' });
      const { MembershipId } = await server.root.call(api.CreateGroupMembership, { GroupId, MemberId: { UserId } });
      await refused(server.root.call(api.CreateGroupMembership, { GroupId, MemberId: { UserId } }), 'ConflictException', /already in group/);
      const check = await server.root.call(api.IsMemberInGroups, { MemberId: { UserId }, GroupIds: [GroupId, other.GroupId] });
      assert.deepEqual(check.Results.map((result) => result.MembershipExists), [true, false]);
      const forMember = await server.root.call(api.ListGroupMembershipsForMember, { MemberId: { UserId } });
      assert.deepEqual(forMember.GroupMemberships.map((membership) => membership.MembershipId), [MembershipId]);
      assert.equal((await server.root.call(api.GetGroupMembershipId, { GroupId, MemberId: { UserId } })).MembershipId, MembershipId);
      assert.equal((await server.root.call(api.GetGroupId, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'DisplayName', AttributeValue: 'PRODUCTIONACCESS' } } })).GroupId, GroupId);
      assert.equal((await server.root.call(api.GetGroupId, { AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'ProductionAccess' } } })).GroupId, GroupId, 'AWS documents the path as displayName');
      await server.root.call(api.UpdateGroup, { GroupId, Operations: [{ AttributePath: 'description', AttributeValue: 'Prod' }] });
      assert.equal((await server.root.call(api.DescribeGroup, { GroupId })).Description, 'Prod');
      await server.root.call(api.DeleteUser, { UserId });
      assert.deepEqual((await server.root.call(api.ListGroupMemberships, { GroupId })).GroupMemberships, []);
      await refused(server.root.call(api.DescribeGroupMembership, { MembershipId }), 'ResourceNotFoundException');
      await server.root.call(api.DeleteGroup, { GroupId });
      await refused(server.root.call(api.DescribeGroup, { GroupId }), 'ResourceNotFoundException', new RegExp(GroupId));
    });

    test('a membership needs an existing group and user', async () => {
      const { GroupId } = await server.root.call(api.CreateGroup, { DisplayName: 'Lonely' });
      await refused(server.root.call(api.CreateGroupMembership, { GroupId, MemberId: { UserId: '00000000-0000-4000-8000-000000000000' } }), 'ResourceNotFoundException', /User/);
      assert.deepEqual((await server.root.call(api.ListGroupMemberships, { GroupId })).GroupMemberships, []);
    });

    test('a wrong IdentityStoreId is refused; the right one is accepted', async () => {
      const { IdentityStoreId } = await server.root.call(api.CreateGroup, { DisplayName: 'StoreCheck' });
      await server.root.call(api.ListGroups, { IdentityStoreId });
      await refused(server.root.call(api.ListGroups, { IdentityStoreId: 'd-0000000000' }), 'ResourceNotFoundException', /this server's is d-/);
    });
  });
}

describe('user attributes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('users carry attributes for access control, set at creation and by UpdateUser', async () => {
    const { UserId } = await server.root.call(api.CreateUser, { UserName: 'tagged', Attributes: { SSMSessionRunAs: 'ec2-user', team: 'ops' } });
    await server.root.call(api.UpdateUser, { UserId, Operations: [{ AttributePath: 'attributes.team', AttributeValue: 'sre' }] });
    const user = await server.root.call(api.DescribeUser, { UserId });
    assert.deepEqual(user.Attributes, { SSMSessionRunAs: 'ec2-user', team: 'sre' });
    await refused(server.root.call(api.CreateUser, { UserName: 'bad-tags', Attributes: { 'no spaces?': 'x' } }), 'ValidationException', /Attributes/);
  });
});
