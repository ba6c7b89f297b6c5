/**
 * The EC2 view of cloud instances, on both backends: instances join through the real
 * ssm:RegisterEC2Instance (a test certificate made with openssl) and one agent connects over the
 * real control channel. DescribeInstances (fields, the state while Online and not otherwise,
 * filters with wildcards, instance ids, pages), CreateTags and DeleteTags (the tags Systems Manager
 * sees too, a value-conditional delete, the limit, all or nothing), authorization on each
 * instance's ARN by its tags, EC2's errors, other accounts, and deregistration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AirlockClient } from '@airlock/client';
import { ec2, fleet, organizations, ssoAdmin, type control, type OutputOf } from '@airlock/protocol';
import { BACKENDS, createPerson, refused, roleSession, signIn, type TestServer } from '@airlock/testkit';
import { cloudFleet, newInstanceId, REGION, registerManaged, type CloudFleet } from './cloud-instances.js';
import { ControlPeer } from './control-peer.js';

const INVENTORY: control.Inventory = {
  platformName: 'Ubuntu',
  platformVersion: '24.04',
  kernel: '6.8.0-45-generic',
  hostname: 'web-1',
  ipAddresses: ['10.0.1.1'],
  cpus: 2,
  memoryBytes: 4_000_000_000,
  agentVersion: '0.1.0',
};

/** Tags only instances tagged env=prod (CreateTags by aws:ResourceTag, DeleteTags by ec2:ResourceTag); describes all. */
const PROD_TAGGER = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
    { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: 'arn:aws:ec2:*:*:instance/*', Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } },
    { Effect: 'Allow', Action: 'ec2:DeleteTags', Resource: 'arn:aws:ec2:*:*:instance/*', Condition: { StringEquals: { 'ec2:ResourceTag/env': 'prod' } } },
  ],
});

type Described = OutputOf<typeof ec2.DescribeInstances>;
const instancesOf = (output: Described) => output.Reservations.flatMap((reservation) => reservation.Instances);
const idsOf = (output: Described): string[] => instancesOf(output).map((item) => item.InstanceId).sort();

for (const backend of BACKENDS) {
  describe(`ec2 view of cloud instances on ${backend}`, () => {
    let cloud: CloudFleet;
    let server: TestServer;
    let account: string;
    let web1: string;
    let web2: string;
    let db1: string;
    let extras: string[];
    let managed: string;
    let agent: ControlPeer;
    let tagger: AirlockClient;
    let sandboxAdmin: AirlockClient;
    const launched = new Date(Date.now() - 3_600_000);

    const describeIds = async (filters: { Name: string; Values: string[] }[]): Promise<string[]> => idsOf(await server.root.call(ec2.DescribeInstances, { Filters: filters }));
    const tagsOf = async (instanceId: string) => instancesOf(await server.root.call(ec2.DescribeInstances, { InstanceIds: [instanceId] }))[0]?.Tags ?? [];
    const arn = (instanceId: string) => `arn:aws:ec2:${REGION}:${account}:instance/${instanceId}`;

    before(async () => {
      cloud = await cloudFleet(backend);
      server = cloud.server;
      account = cloud.account;
      launched.setMilliseconds(0);
      const join = async (privateIp: string, tags?: { Key: string; Value: string }[]) =>
        (await cloud.join({ privateIp, pendingTime: launched, ...(tags === undefined ? {} : { tags }) })).instanceId;
      const first = await cloud.join({ privateIp: '10.0.1.1', pendingTime: launched, tags: [{ Key: 'env', Value: 'prod' }, { Key: 'Name', Value: 'web-1' }] });
      web1 = first.instanceId;
      web2 = await join('10.0.1.2', [{ Key: 'env', Value: 'prod' }]);
      db1 = await join('10.0.2.1', [{ Key: 'env', Value: 'dev' }]);
      extras = [await join('10.0.3.1'), await join('10.0.3.2'), await join('10.0.3.3')];
      managed = (await registerManaged(server, { name: 'onprem', tags: [{ Key: 'env', Value: 'prod' }] })).instanceId;
      agent = await ControlPeer.connect(server, web1, first.privateKey, { inventory: INVENTORY });

      const sandbox = (await server.root.call(organizations.CreateAccount, { AccountName: 'Sandbox', Email: 'sandbox@example.com' })).CreateAccountStatus.AccountId;
      const userId = await createPerson(server, 'tagger');
      const taggers = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'ProdTagger' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.PutInlinePolicyToPermissionSet, { PermissionSetArn: taggers, InlinePolicy: PROD_TAGGER });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: taggers, PrincipalType: 'USER', PrincipalId: userId });
      const admins = (await server.root.call(ssoAdmin.CreatePermissionSet, { Name: 'AdminAccess' })).PermissionSet.PermissionSetArn;
      await server.root.call(ssoAdmin.AttachManagedPolicyToPermissionSet, { PermissionSetArn: admins, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
      await server.root.call(ssoAdmin.CreateAccountAssignment, { TargetId: sandbox, TargetType: 'AWS_ACCOUNT', PermissionSetArn: admins, PrincipalType: 'USER', PrincipalId: userId });
      const person = await signIn(server, 'tagger');
      tagger = await roleSession(server, person, account, 'ProdTagger');
      sandboxAdmin = await roleSession(server, person, sandbox, 'AdminAccess');
    });
    after(async () => {
      agent.close();
      await cloud.stop();
    });

    test('DescribeInstances lists the cloud instances, one reservation each, with what Airlock knows: running only while the agent is Online', async () => {
      const output = await server.root.call(ec2.DescribeInstances, {});
      assert.deepEqual(idsOf(output), [web1, web2, db1, ...extras].sort(), 'the managed instance is not EC2\'s');
      assert.equal(output.NextToken, undefined);
      for (const reservation of output.Reservations) {
        assert.match(reservation.ReservationId, /^r-[0-9a-f]{17}$/);
        assert.equal(reservation.OwnerId, account);
        assert.equal(reservation.Instances.length, 1);
      }
      const again = await server.root.call(ec2.DescribeInstances, {});
      assert.deepEqual(again.Reservations.map((reservation) => reservation.ReservationId), output.Reservations.map((reservation) => reservation.ReservationId), 'reservation ids are stable');

      const online = instancesOf(output).find((item) => item.InstanceId === web1);
      assert.deepEqual(online, {
        InstanceId: web1,
        State: { Code: 16, Name: 'running' },
        PrivateIpAddress: '10.0.1.1',
        LaunchTime: launched.getTime() / 1000,
        PlatformDetails: 'Linux/UNIX',
        Tags: [{ Key: 'Name', Value: 'web-1' }, { Key: 'env', Value: 'prod' }],
      });
      // Never connected: no state (Airlock cannot tell stopped from unreachable), no platform.
      assert.deepEqual(instancesOf(output).find((item) => item.InstanceId === web2), {
        InstanceId: web2,
        PrivateIpAddress: '10.0.1.2',
        LaunchTime: launched.getTime() / 1000,
        Tags: [{ Key: 'env', Value: 'prod' }],
      });
      assert.equal(instancesOf(output).find((item) => item.InstanceId === extras[0])?.Tags, undefined, 'no Tags when there are none');
    });

    test('filters: tags, addresses and states with wildcards, all of them applying; unknown filters refused', async () => {
      assert.deepEqual(await describeIds([{ Name: 'tag:env', Values: ['prod'] }]), [web1, web2].sort());
      assert.deepEqual(await describeIds([{ Name: 'tag:env', Values: ['dev', 'qa'] }]), [db1]);
      assert.deepEqual(await describeIds([{ Name: 'tag-key', Values: ['Name'] }]), [web1]);
      assert.deepEqual(await describeIds([{ Name: 'tag-value', Values: ['pr*'] }]), [web1, web2].sort());
      assert.deepEqual(await describeIds([{ Name: 'private-ip-address', Values: ['10.0.1.?'] }]), [web1, web2].sort());
      assert.deepEqual(await describeIds([{ Name: 'private-ip-address', Values: ['10.0.3.*'] }]), [...extras].sort());
      assert.deepEqual(await describeIds([{ Name: 'instance-state-name', Values: ['running'] }]), [web1]);
      assert.deepEqual(await describeIds([{ Name: 'instance-state-name', Values: ['stopped'] }]), []);
      assert.deepEqual(await describeIds([{ Name: 'instance-state-code', Values: ['16'] }]), [web1]);
      assert.deepEqual(await describeIds([{ Name: 'instance-id', Values: [db1] }]), [db1]);
      assert.deepEqual(await describeIds([{ Name: 'platform-details', Values: ['Linux/UNIX'] }]), [web1]);
      assert.deepEqual(await describeIds([{ Name: 'owner-id', Values: [account] }]), [web1, web2, db1, ...extras].sort());
      assert.deepEqual(await describeIds([{ Name: 'launch-time', Values: [`${launched.toISOString().slice(0, 13)}*`] }]), [web1, web2, db1, ...extras].sort());
      assert.deepEqual(await describeIds([{ Name: 'tag:env', Values: ['prod'] }, { Name: 'instance-state-name', Values: ['running'] }]), [web1], 'every filter applies');
      assert.deepEqual(await describeIds([{ Name: 'tag:env', Values: ['pro\\*'] }]), [], 'an escaped * is a star');
      await refused(server.root.call(ec2.DescribeInstances, { Filters: [{ Name: 'availability-zone', Values: ['eu-west-1a'] }] }), 'InvalidParameterValue', /'availability-zone' is invalid/);
    });

    test("instance ids: each must be an instance of the account's (InvalidInstanceID.NotFound), well-formed (…Malformed), and not with MaxResults", async () => {
      assert.deepEqual(idsOf(await server.root.call(ec2.DescribeInstances, { InstanceIds: [db1, web2, db1] })), [web2, db1].sort());
      const unknown = newInstanceId();
      await refused(server.root.call(ec2.DescribeInstances, { InstanceIds: [db1, unknown] }), 'InvalidInstanceID.NotFound', new RegExp(`^The instance ID '${unknown}' does not exist$`));
      const other = newInstanceId();
      await refused(server.root.call(ec2.DescribeInstances, { InstanceIds: [unknown, other] }), 'InvalidInstanceID.NotFound', new RegExp(`The instance IDs '${unknown}, ${other}' do not exist`));
      await refused(server.root.call(ec2.DescribeInstances, { InstanceIds: ['i-xyz'] }), 'InvalidInstanceID.Malformed', /Invalid id: "i-xyz"/);
      await refused(server.root.call(ec2.DescribeInstances, { InstanceIds: [managed] }), 'InvalidInstanceID.Malformed', /managed instance/);
      await refused(server.root.call(ec2.DescribeInstances, { InstanceIds: [db1], MaxResults: 5 }), 'InvalidParameterCombination');
    });

    test('pages of MaxResults, in instance id order, with a NextToken while there are more', async () => {
      const first = await server.root.call(ec2.DescribeInstances, { MaxResults: 5 });
      assert.equal(instancesOf(first).length, 5);
      assert.ok(first.NextToken !== undefined);
      const second = await server.root.call(ec2.DescribeInstances, { MaxResults: 5, NextToken: first.NextToken });
      assert.equal(instancesOf(second).length, 1);
      assert.equal(second.NextToken, undefined);
      const all = [...instancesOf(first), ...instancesOf(second)].map((item) => item.InstanceId);
      assert.deepEqual(all, [web1, web2, db1, ...extras].sort());
      const filtered = await server.root.call(ec2.DescribeInstances, { MaxResults: 5, Filters: [{ Name: 'private-ip-address', Values: ['10.0.*'] }, { Name: 'tag-key', Values: ['env'] }] });
      assert.deepEqual(idsOf(filtered), [web1, web2, db1].sort());
      assert.equal(filtered.NextToken, undefined);
      await refused(server.root.call(ec2.DescribeInstances, { NextToken: 'not-a-token' }), 'InvalidPaginationToken');
    });

    test("CreateTags and DeleteTags change the instance's one set of tags (Systems Manager's filters see it); a Value deletes only that value", async () => {
      const [one = '', two = ''] = extras;
      await server.root.call(ec2.CreateTags, { Resources: [one, two], Tags: [{ Key: 'team', Value: 'blue' }, { Key: 'flag' }] });
      assert.deepEqual(await tagsOf(one), [{ Key: 'flag', Value: '' }, { Key: 'team', Value: 'blue' }]);
      const { InstanceInformationList } = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'tag:team', Values: ['blue'] }] });
      assert.deepEqual(InstanceInformationList.map((item) => item.InstanceId).sort(), [one, two].sort());

      await server.root.call(ec2.CreateTags, { Resources: [one], Tags: [{ Key: 'team', Value: 'red' }] });
      await server.root.call(ec2.DeleteTags, { Resources: [one], Tags: [{ Key: 'team', Value: 'blue' }] });
      assert.deepEqual(await tagsOf(one), [{ Key: 'flag', Value: '' }, { Key: 'team', Value: 'red' }], 'another value: kept');
      await server.root.call(ec2.DeleteTags, { Resources: [one], Tags: [{ Key: 'team', Value: 'red' }] });
      assert.deepEqual(await tagsOf(one), [{ Key: 'flag', Value: '' }]);
      await server.root.call(ec2.DeleteTags, { Resources: [two], Tags: [{ Key: 'team' }, { Key: 'flag', Value: 'x' }] });
      assert.deepEqual(await tagsOf(two), [{ Key: 'flag', Value: '' }], 'a key alone deletes whatever the value; flag is not x');
      await server.root.call(ec2.DeleteTags, { Resources: [two], Tags: [{ Key: 'flag', Value: '' }] });
      assert.deepEqual(await tagsOf(two), [], 'an empty Value deletes an empty tag');
      await server.root.call(ec2.CreateTags, { Resources: [two], Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
      await server.root.call(ec2.DeleteTags, { Resources: [two] });
      assert.deepEqual(await tagsOf(two), [], 'no Tags: all of them');

      await refused(server.root.call(ec2.CreateTags, { Resources: [one], Tags: [{ Key: 'aws:owner', Value: 'x' }] }), 'InvalidParameterValue', /reserved/);
      await refused(server.root.call(ec2.DeleteTags, { Resources: [one], Tags: [{ Key: 'aws:owner' }] }), 'InvalidParameterValue', /reserved/);
      await refused(server.root.call(ec2.CreateTags, { Resources: [one], Tags: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] }), 'InvalidParameterValue', /twice/);
    });

    test('at most 50 tags an instance (TagLimitExceeded), and a refused CreateTags changes no instance', async () => {
      const [one = '', two = ''] = extras;
      const fifty = Array.from({ length: 50 }, (_, index) => ({ Key: `k${index}`, Value: String(index) }));
      await server.root.call(ec2.DeleteTags, { Resources: [one, two] });
      await server.root.call(ec2.CreateTags, { Resources: [one], Tags: fifty });
      assert.equal((await tagsOf(one)).length, 50);
      await server.root.call(ec2.CreateTags, { Resources: [one], Tags: [{ Key: 'k0', Value: 'again' }] });
      await refused(server.root.call(ec2.CreateTags, { Resources: [two, one], Tags: [{ Key: 'new', Value: 'x' }] }), 'TagLimitExceeded', new RegExp(`${one} would have 51 tags`));
      assert.deepEqual(await tagsOf(two), [], 'the other instance was not tagged either');
      assert.equal((await tagsOf(one)).length, 50);
      await server.root.call(ec2.DeleteTags, { Resources: [one] });
    });

    test('resources: EC2 instances only, of this account; EC2 errors for the rest', async () => {
      const unknown = newInstanceId();
      await refused(server.root.call(ec2.CreateTags, { Resources: ['vol-0123456789abcdef0'], Tags: [{ Key: 'k', Value: 'v' }] }), 'InvalidID', /'vol-0123456789abcdef0' is not valid/);
      await refused(server.root.call(ec2.CreateTags, { Resources: [managed], Tags: [{ Key: 'k', Value: 'v' }] }), 'InvalidID', /managed instance.*add-tags-to-resource/);
      await refused(server.root.call(ec2.CreateTags, { Resources: ['i-0123'], Tags: [{ Key: 'k', Value: 'v' }] }), 'InvalidInstanceID.Malformed');
      await refused(server.root.call(ec2.DeleteTags, { Resources: [web2, unknown] }), 'InvalidInstanceID.NotFound', new RegExp(unknown));
      assert.deepEqual(await tagsOf(web2), [{ Key: 'env', Value: 'prod' }], 'nothing deleted');
    });

    test("a policy's tag condition decides each instance with its own tags; a refusal names the instance's ARN and changes nothing", async () => {
      await tagger.call(ec2.CreateTags, { Resources: [web2], Tags: [{ Key: 'owner', Value: 'ops' }] });
      assert.deepEqual(await tagsOf(web2), [{ Key: 'env', Value: 'prod' }, { Key: 'owner', Value: 'ops' }]);
      await refused(tagger.call(ec2.CreateTags, { Resources: [db1], Tags: [{ Key: 'owner', Value: 'ops' }] }), 'AccessDeniedException', new RegExp(`ec2:CreateTags on resource: ${arn(db1)} `));
      await refused(tagger.call(ec2.CreateTags, { Resources: [web2, db1], Tags: [{ Key: 'batch', Value: '1' }] }), 'AccessDeniedException', new RegExp(`on resource: ${arn(db1)} `));
      assert.deepEqual(await tagsOf(web2), [{ Key: 'env', Value: 'prod' }, { Key: 'owner', Value: 'ops' }], 'all or nothing');
      assert.deepEqual(await tagsOf(db1), [{ Key: 'env', Value: 'dev' }]);

      // ec2:ResourceTag/env (DeleteTags' condition) reads the same tags.
      await refused(tagger.call(ec2.DeleteTags, { Resources: [db1], Tags: [{ Key: 'env' }] }), 'AccessDeniedException', new RegExp(`ec2:DeleteTags on resource: ${arn(db1)} `));
      await tagger.call(ec2.DeleteTags, { Resources: [web2], Tags: [{ Key: 'owner' }] });
      assert.deepEqual(await tagsOf(web2), [{ Key: 'env', Value: 'prod' }]);

      // An instance that does not exist has no tags: refused the same way, so the refusal tells nothing.
      const unknown = newInstanceId();
      await refused(tagger.call(ec2.CreateTags, { Resources: [unknown], Tags: [{ Key: 'owner', Value: 'ops' }] }), 'AccessDeniedException', new RegExp(`instance/${unknown} `));
      await refused(tagger.call(ec2.CreateTags, { Resources: ['i-zz'], Tags: [{ Key: 'owner', Value: 'ops' }] }), 'InvalidInstanceID.Malformed');
      assert.equal(instancesOf(await tagger.call(ec2.DescribeInstances, {})).length, 6);
    });

    test("another account neither sees nor tags this account's instances", async () => {
      assert.deepEqual(instancesOf(await sandboxAdmin.call(ec2.DescribeInstances, {})), []);
      await refused(sandboxAdmin.call(ec2.DescribeInstances, { InstanceIds: [web1] }), 'InvalidInstanceID.NotFound');
      await refused(sandboxAdmin.call(ec2.CreateTags, { Resources: [web1], Tags: [{ Key: 'owner', Value: 'sandbox' }] }), 'InvalidInstanceID.NotFound');
      assert.equal((await tagsOf(web1)).some((tag) => tag.Key === 'owner'), false);
    });

    test('a deregistered instance is no longer described or tagged (Systems Manager still lists it, Inactive)', async () => {
      const gone = extras[2] ?? '';
      await server.root.call(fleet.DeregisterManagedInstance, { InstanceId: gone });
      assert.ok(!idsOf(await server.root.call(ec2.DescribeInstances, {})).includes(gone));
      await refused(server.root.call(ec2.DescribeInstances, { InstanceIds: [gone] }), 'InvalidInstanceID.NotFound');
      await refused(server.root.call(ec2.CreateTags, { Resources: [gone], Tags: [{ Key: 'k', Value: 'v' }] }), 'InvalidInstanceID.NotFound');
      const { InstanceInformationList } = await server.root.call(fleet.DescribeInstanceInformation, { Filters: [{ Key: 'InstanceIds', Values: [gone] }] });
      assert.equal(InstanceInformationList[0]?.PingStatus, 'Inactive');
    });

    test('the agent gone, the instance has no State any more', async () => {
      agent.close();
      // Disconnected: ConnectionLost at once once the server has seen the close.
      for (let attempt = 0; attempt < 100; attempt++) {
        const [item] = instancesOf(await server.root.call(ec2.DescribeInstances, { InstanceIds: [web1] }));
        if (item?.State === undefined) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.fail('web1 still has a State after its agent disconnected');
    });
  });
}
