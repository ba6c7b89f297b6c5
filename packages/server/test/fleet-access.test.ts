/**
 * Who may see and change which instances, on both backends: instances belong to the account
 * their activation was made in, and a policy can allow an action only on instances with a tag
 * (ssm:resourceTag/project), deciding each instance with its own tags.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AirlockApiError, type AirlockClient } from '@airlock/client';
import { fleet, organizations, ssoAdmin } from '@airlock/protocol';
import { agentKeyPair, BACKENDS, createPerson, refused, roleSession, signIn, startTestServer, type TestServer } from '@airlock/testkit';

/** Tags only instances tagged project=Production; reads the fleet everywhere. */
const TAG_PRODUCTION_ONLY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['ssm:DescribeInstanceInformation', 'ssm:ListTagsForResource'], Resource: '*' },
    {
      Effect: 'Allow',
      Action: ['ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
      Resource: 'arn:aws:ssm:*:*:managed-instance/*',
      Condition: { StringLike: { 'ssm:resourceTag/project': 'Production' } },
    },
  ],
});

async function registered(server: TestServer, client: AirlockClient, project: string): Promise<string> {
  const { ActivationId, ActivationCode } = await client.call(fleet.CreateActivation, { IamRole: 'SSMServiceRole', Tags: [{ Key: 'project', Value: project }] });
  const { publicKey } = agentKeyPair();
  const { InstanceId } = await server.client().call(fleet.RegisterManagedInstance, { ActivationId, ActivationCode, PublicKey: publicKey, PublicKeyType: 'Ed25519', Fingerprint: `${project}-host` });
  return InstanceId;
}

async function denied(promise: Promise<unknown>, resource: string): Promise<void> {
  const error = await refused(promise, 'AccessDeniedException');
  assert.ok(error.message.includes(`on resource: ${resource} `), error.message);
}

const ids = (list: readonly { InstanceId: string }[]): string[] => list.map((item) => item.InstanceId).sort();

for (const backend of BACKENDS) {
  describe(`instances and access on ${backend}`, () => {
    let server: TestServer;
    let management: string;
    let sandbox: string;
    let production: string;
    let development: string;
    let tagger: AirlockClient;
    let sandboxAdmin: AirlockClient;

    before(async () => {
      server = await startTestServer({ backend });
      management = (await server.root.call(organizations.ListAccounts, {})).Accounts[0]?.Id ?? '';
      sandbox = (await server.root.call(organizations.CreateAccount, { AccountName: 'Sandbox', Email: 'sandbox@example.com' })).CreateAccountStatus.AccountId;
      const userId = await createPerson(server, 'tagger');
      const taggers = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProductionTagger' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: taggers, InlinePolicy: TAG_PRODUCTION_ONLY });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: management, TargetType: 'AWS_ACCOUNT', PermissionSetArn: taggers, PrincipalType: 'USER', PrincipalId: userId });
      const admins = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'AdminAccess' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: admins, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: sandbox, TargetType: 'AWS_ACCOUNT', PermissionSetArn: admins, PrincipalType: 'USER', PrincipalId: userId });
      const person = await signIn(server, 'tagger');
      tagger = await roleSession(server, person, management, 'ProductionTagger');
      sandboxAdmin = await roleSession(server, person, sandbox, 'AdminAccess');
      production = await registered(server, server.root, 'Production');
      development = await registered(server, server.root, 'Development');
    });
    after(async () => {
      await server.stop();
    });

    test('a tag condition allows tagging the Production instance and refuses the Development one, naming its ARN', async () => {
      await tagger.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: production, Tags: [{ Key: 'owner', Value: 'ops' }] });
      const { TagList } = await tagger.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: production });
      assert.deepEqual(TagList, [{ Key: 'owner', Value: 'ops' }, { Key: 'project', Value: 'Production' }]);
      const arn = `arn:aws:ssm:${server.server.services.config.region}:${management}:managed-instance/${development}`;
      await denied(tagger.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: development, Tags: [{ Key: 'project', Value: 'Production' }] }), arn);
      const after = await tagger.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: development });
      assert.deepEqual(after.TagList, [{ Key: 'project', Value: 'Development' }]);
    });

    test('the decision follows the tags as they are now: untagging Production takes the permission away', async () => {
      const other = await registered(server, server.root, 'Production');
      await tagger.call(fleet.RemoveTagsFromResource, { ResourceType: 'ManagedInstance', ResourceId: other, TagKeys: ['project'] });
      await denied(tagger.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: other, Tags: [{ Key: 'project', Value: 'Production' }] }), `arn:aws:ssm:${server.server.services.config.region}:${management}:managed-instance/${other}`);
    });

    test('tag keys that differ only in case are decided by the first in code-point order, not a failure', async () => {
      const twin = await registered(server, server.root, 'Production');
      await server.root.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: twin, Tags: [{ Key: 'Project', Value: 'Development' }] });
      // "Project" sorts before "project": its Development value is what the condition sees.
      await denied(tagger.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: twin, Tags: [{ Key: 'owner', Value: 'ops' }] }), `arn:aws:ssm:${server.server.services.config.region}:${management}:managed-instance/${twin}`);
      await server.root.call(fleet.RemoveTagsFromResource, { ResourceType: 'ManagedInstance', ResourceId: twin, TagKeys: ['Project'] });
      await tagger.call(fleet.AddTagsToResource, { ResourceType: 'ManagedInstance', ResourceId: twin, Tags: [{ Key: 'owner', Value: 'ops' }] });
    });

    test('an instance belongs to the account its activation was made in; other accounts neither see nor change it', async () => {
      const mine = await registered(server, sandboxAdmin, 'Sandbox');
      const seen = await sandboxAdmin.call(fleet.DescribeInstanceInformation, {});
      assert.deepEqual(ids(seen.InstanceInformationList), [mine]);
      const managementView = await tagger.call(fleet.DescribeInstanceInformation, { MaxResults: 50 });
      assert.ok(!ids(managementView.InstanceInformationList).includes(mine));
      assert.ok(ids(managementView.InstanceInformationList).includes(production));
      await assert.rejects(sandboxAdmin.call(fleet.DeregisterManagedInstance, { InstanceId: production }), (error: unknown) => error instanceof AirlockApiError && error.code === 'InvalidInstanceId');
      await assert.rejects(
        sandboxAdmin.call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: production }),
        (error: unknown) => error instanceof AirlockApiError && error.code === 'InvalidResourceId',
      );
      const { ActivationList } = await sandboxAdmin.call(fleet.DescribeActivations, {});
      assert.equal(ActivationList.length, 1);
      assert.equal((await sandboxAdmin.call(fleet.GetConnectionStatus, { Target: production })).Status, 'notconnected');
    });

  });
}
