/**
 * Access as the guide sets it up: permission sets assigned to groups in an account, role
 * sessions chosen in the portal, and every call decided by the permission set's policies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { identitystore, organizations, roleSessions, ssoAdmin } from '@airlock/protocol';
import { BACKENDS, createPerson, refused, roleSession, signIn, startTestServer, type TestServer } from '@airlock/testkit';

const guidePolicy = readFileSync(new URL('../../../examples/guide/policies/production-ec2.json', import.meta.url), 'utf8');

for (const backend of BACKENDS) {
  describe(`access on ${backend}`, () => {
    let server: TestServer;
    let account: string;
    let production: string;
    let admins: string;
    let testuser01: AirlockClient;
    let groupId: string;
    let userId: string;

    before(async () => {
      server = await startTestServer({ backend });
      account = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      groupId = (await server.root.call(identitystore.CreateGroup, { DisplayName: 'ProductionAccess' })).GroupId;
      userId = await createPerson(server, 'testuser01', { team: 'ops' });
      await server.root.call(identitystore.CreateGroupMembership, { GroupId: groupId, MemberId: { UserId: userId } });
      production = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProductionPermissionSet', Description: 'Production servers' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: guidePolicy });
      await server.root.call(ssoAdmin.CreateAccountAssignment, {
        TargetId: account,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: production,
        PrincipalType: 'GROUP',
        PrincipalId: groupId,
      });
      admins = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'AdminAccess', SessionDuration: 'PT2H' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: admins, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
      testuser01 = await signIn(server, 'testuser01');
    });
    after(async () => {
      await server.stop();
    });

    test('the portal lists the account and the permission set the group holds there', async () => {
      const accounts = await testuser01.call(roleSessions.ListAccounts, {});
      assert.deepEqual(accounts.AccountList.map((entry) => [entry.AccountId, entry.AccountName]), [[account, 'Management']]);
      const roles = await testuser01.call(roleSessions.ListAccountRoles, { AccountId: account });
      assert.deepEqual(roles.RoleList, [{ RoleName: 'ProductionPermissionSet', AccountId: account }]);
    });

    test('a role session is AWSReservedSSO_{set}_{hex}/{user}, expires after the SessionDuration, and knows who it is', async () => {
      const { RoleCredentials } = await testuser01.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' });
      assert.match(RoleCredentials.AssumedRoleArn, new RegExp(`^arn:aws:sts::${account}:assumed-role/AWSReservedSSO_ProductionPermissionSet_[0-9a-f]{16}/testuser01$`));
      assert.equal(RoleCredentials.Expiration, server.clock.now() + 3600 * 1000);
      const identity = await server.client(RoleCredentials.AccessToken).call(roleSessions.GetCallerIdentity, {});
      assert.equal(identity.Arn, RoleCredentials.AssumedRoleArn);
      assert.match(identity.UserId, /^AROA[0-9A-F]{17}:testuser01$/);
      server.clock.advance(3600 * 1000 + 1);
      await refused(server.client(RoleCredentials.AccessToken).call(roleSessions.GetCallerIdentity, {}), 'UnauthorizedException', /not valid, or has expired/);
      server.clock.advance(-(3600 * 1000 + 1));
    });

    test("the guide's policy refuses an administrator's call, naming principal, action and resource", async () => {
      const role = await roleSession(server, testuser01, account, 'ProductionPermissionSet');
      await refused(
        role.call(identitystore.CreateUser, { UserName: 'intruder' }),
        'AccessDeniedException',
        /^User: arn:aws:sts::\d{12}:assumed-role\/AWSReservedSSO_ProductionPermissionSet_[0-9a-f]{16}\/testuser01 is not authorized to perform: identitystore:CreateUser on resource: \* because no identity-based policy allows the identitystore:CreateUser action$/,
      );
    });

    test('an administrator permission set may do what the guide policy may not', async () => {
      const adminId = await createPerson(server, 'admin01');
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: admins, PrincipalType: 'USER', PrincipalId: adminId });
      const admin = await roleSession(server, await signIn(server, 'admin01'), account, 'AdminAccess');
      const created = await admin.call(identitystore.CreateUser, { UserName: 'made-by-admin', PasswordSetup: 'NONE' });
      assert.match(created.UserId, /^[0-9a-f-]{36}$/);
    });

    test('a policy edit changes the very next decision, and an explicit deny says so', async () => {
      const role = await roleSession(server, testuser01, account, 'ProductionPermissionSet');
      await refused(role.call(identitystore.ListUsers, {}), 'AccessDeniedException', /no identity-based policy allows/);
      const allowList = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'identitystore:List*', Resource: '*' }] };
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: JSON.stringify(allowList) });
      assert.ok((await role.call(identitystore.ListUsers, {})).Users.length > 0);
      const denyList = { ...allowList, Statement: [...allowList.Statement, { Effect: 'Deny', Action: 'identitystore:ListUsers', Resource: '*' }] };
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: JSON.stringify(denyList) });
      await refused(role.call(identitystore.ListUsers, {}), 'AccessDeniedException', /with an explicit deny in an identity-based policy: ProductionPermissionSet inline policy statement 1$/);
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: guidePolicy });
    });

    test('conditions see MFA, principal tags and the user name', async () => {
      const conditional = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'identitystore:ListGroups',
            Resource: '*',
            Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, StringEquals: { 'aws:PrincipalTag/team': 'ops', 'aws:username': '${aws:username}' } },
          },
        ],
      };
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: JSON.stringify(conditional) });
      const role = await roleSession(server, testuser01, account, 'ProductionPermissionSet');
      assert.ok(Array.isArray((await role.call(identitystore.ListGroups, {})).Groups));
      await server.root.call(identitystore.UpdateUser, { UserId: userId, Operations: [{ AttributePath: 'attributes.team', AttributeValue: 'dev' }] });
      await refused(role.call(identitystore.ListGroups, {}), 'AccessDeniedException', /ListGroups/);
      await server.root.call(identitystore.UpdateUser, { UserId: userId, Operations: [{ AttributePath: 'attributes.team', AttributeValue: 'ops' }] });
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: guidePolicy });
    });

    test('a policy with errors is refused with its findings; delete is refused while assigned', async () => {
      await refused(
        server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: production, InlinePolicy: '{"Version": "2012-10-17", "Statement": {"Effect": "Permit", "Action": "*", "Resource": "*"}}' }),
        'ValidationException',
        /INVALID_EFFECT at Statement\.Effect/,
      );
      assert.equal((await server.root.call(ssoAdmin.GetInlinePolicyForPermissionSet, { PermissionSetArn: production })).InlinePolicy, guidePolicy);
      await refused(server.root.call(ssoAdmin.DeletePermissionSet, { PermissionSetArn: production }), 'ConflictException', /assigned in account/);
      await refused(server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'TooLong', SessionDuration: 'PT13H' }), 'ValidationException', /PT1H to PT12H/);
    });

    test('removing the assignment stops new role sessions; revoking ends live ones', async () => {
      const live = await roleSession(server, testuser01, account, 'ProductionPermissionSet');
      const assignment = { TargetId: account, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: production, PrincipalType: 'GROUP' as const, PrincipalId: groupId };
      await server.root.call(ssoAdmin.DeleteAccountAssignment, assignment);
      await refused(testuser01.call(roleSessions.GetRoleCredentials, { AccountId: account, RoleName: 'ProductionPermissionSet' }), 'AccessDeniedException', /no permission set ProductionPermissionSet/);
      assert.deepEqual((await testuser01.call(roleSessions.ListAccounts, {})).AccountList, []);
      const revoked = await server.root.call(ssoAdmin.RevokeRoleSessions, { UserId: userId });
      assert.ok(revoked.Revoked >= 1);
      await refused(live.call(roleSessions.GetCallerIdentity, {}), 'UnauthorizedException', /not valid/);
      await server.root.call(ssoAdmin.CreateAccountAssignment, assignment);
    });

    test('a portal session is not a role session, and every call was recorded', async () => {
      await refused(testuser01.call(identitystore.ListUsers, {}), 'AccessDeniedException', /needs a role session/);
      await refused(testuser01.call(ssoAdmin.ListPermissionSets, {}), 'AccessDeniedException', /needs a role session/);
      const rows = await server.server.services.db.selectFrom('audit_events').select('record').execute();
      const names = rows.map((row) => (JSON.parse(row.record) as { eventName: string; userIdentity: { type: string } }));
      assert.ok(names.some((record) => record.eventName === 'GetRoleCredentials' && record.userIdentity.type === 'IdentityCenterUser'));
      assert.ok(names.some((record) => record.eventName === 'CreateUser' && record.userIdentity.type === 'AssumedRole'));
      assert.ok(names.some((record) => record.eventName === 'InitiateAuth'));
    });
  });
}
