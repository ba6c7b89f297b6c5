/**
 * Instance properties and inventory on both backends, with a cloud instance (joined through
 * ssm:RegisterEC2Instance) and managed instances whose agents say hello over the real control
 * channel with inventories of their own, and instances that never connected.
 * DescribeInstanceProperties: the fields, each operator, the legacy filter list, pages, errors.
 * GetInventory: the inventory reported in hello (and a changed one sent with a heartbeat) as
 * AWS:InstanceInformation, AWS:InstanceDetailedInformation and Custom:AirlockHost; filters,
 * result attributes, pages, errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fleet, inventory, type control, type InputOf } from '@airlock/protocol';
import { BACKENDS, refused, type TestServer } from '@airlock/testkit';
import { cloudFleet, registerManaged, type CloudFleet } from './cloud-instances.js';
import { ControlPeer } from './control-peer.js';

const CLOUD_INVENTORY: control.Inventory = {
  platformName: 'Ubuntu',
  platformVersion: '24.04',
  kernel: '6.8.0-45-generic',
  hostname: 'ip-10-0-1-1',
  ipAddresses: ['10.0.1.1', 'fe80::1'],
  cpus: 4,
  memoryBytes: 8_000_000_000,
  agentVersion: '0.10.0',
};
const MANAGED_INVENTORY: control.Inventory = {
  platformName: 'Debian GNU/Linux',
  platformVersion: '12',
  kernel: '6.1.0-18-amd64',
  hostname: 'db-01',
  ipAddresses: ['192.168.1.20'],
  cpus: 2,
  memoryBytes: 0,
  agentVersion: '0.9.2',
};

type PropertyFilters = NonNullable<InputOf<typeof inventory.DescribeInstanceProperties>['FiltersWithOperator']>;
type LegacyFilters = NonNullable<InputOf<typeof inventory.DescribeInstanceProperties>['InstancePropertyFilterList']>;
type InventoryFilters = NonNullable<InputOf<typeof inventory.GetInventory>['Filters']>;

for (const backend of BACKENDS) {
  describe(`instance properties and inventory on ${backend}`, () => {
    let cloud: CloudFleet;
    let server: TestServer;
    let web: string;
    let idle: string;
    let db: string;
    let spare: string;
    let moreManaged: string[];
    let agents: ControlPeer[];
    const launched = new Date(Date.now() - 3_600_000);

    const propertyIds = async (filters: PropertyFilters, legacy?: LegacyFilters): Promise<string[]> => {
      const { InstanceProperties } = await server.root.call(inventory.DescribeInstanceProperties, { FiltersWithOperator: filters, ...(legacy === undefined ? {} : { InstancePropertyFilterList: legacy }), MaxResults: 50 });
      return InstanceProperties.map((item) => item.InstanceId);
    };
    const inventoryIds = async (filters: InventoryFilters): Promise<string[]> =>
      (await server.root.call(inventory.GetInventory, { Filters: filters })).Entities.map((entity) => entity.Id);
    const sorted = (...ids: string[]): string[] => [...ids].sort();

    before(async () => {
      cloud = await cloudFleet(backend);
      server = cloud.server;
      launched.setMilliseconds(0);
      const joined = await cloud.join({ privateIp: '10.0.1.1', pendingTime: launched, tags: [{ Key: 'Name', Value: 'web-1' }, { Key: 'env', Value: 'prod' }] });
      web = joined.instanceId;
      idle = (await cloud.join({ privateIp: '10.0.9.9', pendingTime: launched })).instanceId;
      const managed = await registerManaged(server, { name: 'db', tags: [{ Key: 'env', Value: 'dev' }] });
      db = managed.instanceId;
      spare = (await registerManaged(server, { name: 'spare' })).instanceId;
      moreManaged = [(await registerManaged(server)).instanceId, (await registerManaged(server)).instanceId];
      agents = [await ControlPeer.connect(server, web, joined.privateKey, { inventory: CLOUD_INVENTORY }), await ControlPeer.connect(server, db, managed.privateKey, { inventory: MANAGED_INVENTORY })];
    });
    after(async () => {
      for (const agent of agents) agent.close();
      await cloud.stop();
    });

    test('DescribeInstanceProperties: every instance with what Airlock knows of it, a cloud one with its launch and state', async () => {
      const { InstanceProperties, NextToken } = await server.root.call(inventory.DescribeInstanceProperties, {});
      assert.equal(NextToken, undefined);
      assert.deepEqual(InstanceProperties.map((item) => item.InstanceId), sorted(web, idle, db, spare, ...moreManaged));
      const byId = new Map(InstanceProperties.map((item) => [item.InstanceId, item]));
      const cloudOne = byId.get(web);
      assert.ok(cloudOne !== undefined);
      assert.ok(cloudOne.LastPingDateTime !== undefined && cloudOne.RegistrationDate !== undefined);
      assert.deepEqual(cloudOne, {
        InstanceId: web,
        PingStatus: 'Online',
        LastPingDateTime: cloudOne.LastPingDateTime,
        AgentVersion: '0.10.0',
        PlatformType: 'Linux',
        PlatformName: 'Ubuntu',
        PlatformVersion: '24.04',
        RegistrationDate: cloudOne.RegistrationDate,
        ResourceType: 'EC2Instance',
        IPAddress: '10.0.1.1',
        ComputerName: 'ip-10-0-1-1',
        Name: 'web-1',
        InstanceState: 'running',
        LaunchTime: launched.getTime() / 1000,
        SourceId: web,
        SourceType: 'AWS::EC2::Instance',
      });
      const managedOne = byId.get(db);
      assert.equal(managedOne?.Name, 'db');
      assert.equal(managedOne.SourceType, 'AWS::SSM::ManagedInstance');
      assert.equal(managedOne.InstanceState, undefined, 'no EC2 state for a managed instance');
      assert.equal(managedOne.LaunchTime, undefined);
      assert.match(managedOne.ActivationId ?? '', /^[0-9a-z-]{36}$/);
      assert.equal(managedOne.IamRole, 'SSMServiceRole');
      const idleOne = byId.get(idle);
      assert.equal(idleOne?.PingStatus, 'ConnectionLost');
      assert.equal(idleOne.InstanceState, undefined, 'not Online: no state claimed');
      assert.equal(idleOne.Name, undefined);
      assert.equal('IsLatestVersion' in cloudOne, false);
    });

    test('FiltersWithOperator: Equal, NotEqual, BeginWith, LessThan and GreaterThan (numbers in versions as numbers), tags, with the legacy list', async () => {
      assert.deepEqual(await propertyIds([{ Key: 'AgentVersion', Values: ['0.10.0'], Operator: 'LessThan' }]), [db], '0.9.2 < 0.10.0');
      assert.deepEqual(await propertyIds([{ Key: 'AgentVersion', Values: ['0.9.10'], Operator: 'GreaterThan' }]), [web]);
      assert.deepEqual(await propertyIds([{ Key: 'PlatformName', Values: ['Deb', 'Fed'], Operator: 'BeginWith' }]), [db]);
      assert.deepEqual(await propertyIds([{ Key: 'PingStatus', Values: ['Online'] }]), sorted(web, db), 'Equal by default');
      assert.deepEqual(await propertyIds([{ Key: 'ResourceType', Values: ['EC2Instance'], Operator: 'NotEqual' }]), sorted(db, spare, ...moreManaged));
      assert.deepEqual(await propertyIds([{ Key: 'tag:env', Values: ['prod'] }]), [web]);
      assert.deepEqual(await propertyIds([{ Key: 'tag:env', Values: ['prod'], Operator: 'NotEqual' }]), sorted(idle, db, spare, ...moreManaged), 'NotEqual: also those without the tag');
      assert.deepEqual(await propertyIds([{ Key: 'tag-key', Values: ['Na'], Operator: 'BeginWith' }]), [web]);
      assert.deepEqual(await propertyIds([{ Key: 'IPAddress', Values: ['10.0.'], Operator: 'BeginWith' }]), sorted(web, idle));
      assert.deepEqual(await propertyIds([{ Key: 'Name', Values: ['db', 'web-1'] }]), sorted(web, db), "a managed instance's Name, a cloud instance's Name tag");
      assert.deepEqual(await propertyIds([{ Key: 'InstanceIds', Values: [web, spare] }]), sorted(web, spare));
      assert.deepEqual(await propertyIds([{ Key: 'PingStatus', Values: ['Online'] }], [{ key: 'ResourceType', valueSet: ['ManagedInstance'] }]), [db], 'both lists apply');
      assert.deepEqual(await propertyIds([{ Key: 'ComputerName', Values: ['db-01'] }, { Key: 'PlatformVersion', Values: ['12'], Operator: 'NotEqual' }]), []);
    });

    test('DescribeInstanceProperties refuses unknown keys, values outside a key\'s set, and a comparison with several values', async () => {
      await refused(server.root.call(inventory.DescribeInstanceProperties, { FiltersWithOperator: [{ Key: 'Bogus', Values: ['x'] }] }), 'InvalidFilterKey', /Bogus is not a filter key/);
      await refused(server.root.call(inventory.DescribeInstanceProperties, { InstancePropertyFilterList: [{ key: 'AssociationStatus', valueSet: ['Failed'] }] }), 'InvalidFilterKey', /associations/);
      await refused(server.root.call(inventory.DescribeInstanceProperties, { FiltersWithOperator: [{ Key: 'PingStatus', Values: ['Up'] }] }), 'InvalidInstancePropertyFilterValue', /Up is not a value/);
      await refused(
        server.root.call(inventory.DescribeInstanceProperties, { FiltersWithOperator: [{ Key: 'AgentVersion', Values: ['1', '2'], Operator: 'LessThan' }] }),
        'InvalidInstancePropertyFilterValue',
        /one value/,
      );
      await refused(server.root.call(inventory.DescribeInstanceProperties, { NextToken: 'nope' }), 'InvalidNextToken');
    });

    test('DescribeInstanceProperties pages, filtered or not', async () => {
      const first = await server.root.call(inventory.DescribeInstanceProperties, { MaxResults: 5 });
      assert.equal(first.InstanceProperties.length, 5);
      assert.ok(first.NextToken !== undefined);
      const second = await server.root.call(inventory.DescribeInstanceProperties, { MaxResults: 5, NextToken: first.NextToken });
      assert.deepEqual([...first.InstanceProperties, ...second.InstanceProperties].map((item) => item.InstanceId), sorted(web, idle, db, spare, ...moreManaged));
      assert.equal(second.NextToken, undefined);
      const filtered = await server.root.call(inventory.DescribeInstanceProperties, { MaxResults: 5, FiltersWithOperator: [{ Key: 'ResourceType', Values: ['ManagedInstance'] }] });
      assert.equal(filtered.InstanceProperties.length, 4);
      assert.equal(filtered.NextToken, undefined);
    });

    test('GetInventory: what each agent reported, as AWS:InstanceInformation, AWS:InstanceDetailedInformation and Custom:AirlockHost', async () => {
      const { Entities, NextToken } = await server.root.call(inventory.GetInventory, {});
      assert.equal(NextToken, undefined);
      assert.deepEqual(Entities.map((entity) => entity.Id), sorted(web, db), 'only instances whose agent reported an inventory');
      const webData = Entities.find((entity) => entity.Id === web)?.Data;
      assert.ok(webData !== undefined);
      assert.deepEqual(Object.keys(webData).sort(), ['AWS:InstanceDetailedInformation', 'AWS:InstanceInformation', 'Custom:AirlockHost']);
      const information = webData['AWS:InstanceInformation'];
      assert.ok(information !== undefined);
      assert.equal(information.TypeName, 'AWS:InstanceInformation');
      assert.equal(information.SchemaVersion, '1.0');
      assert.match(information.CaptureTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(information.Content, [
        {
          AgentType: 'airlock-agent',
          AgentVersion: '0.10.0',
          ComputerName: 'ip-10-0-1-1',
          InstanceId: web,
          InstanceStatus: 'Active',
          IpAddress: '10.0.1.1',
          PlatformName: 'Ubuntu',
          PlatformType: 'Linux',
          PlatformVersion: '24.04',
          ResourceType: 'EC2Instance',
        },
      ]);
      assert.deepEqual(webData['AWS:InstanceDetailedInformation']?.Content, [{ CPUs: '4' }]);
      assert.deepEqual(webData['Custom:AirlockHost']?.Content, [{ KernelVersion: '6.8.0-45-generic', MemoryBytes: '8000000000', IpAddresses: '10.0.1.1,fe80::1' }]);
      const dbHost = Entities.find((entity) => entity.Id === db)?.Data['Custom:AirlockHost']?.Content;
      assert.deepEqual(dbHost, [{ KernelVersion: '6.1.0-18-amd64', IpAddresses: '192.168.1.20' }], 'a memory size the agent could not tell (0) is left out');
    });

    test('GetInventory: filters on TYPE.ATTRIBUTE with each type, and result attributes', async () => {
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceInformation.PlatformName', Values: ['Ubuntu'] }]), [web]);
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceInformation.PlatformName', Values: ['Deb'], Type: 'BeginWith' }]), [db]);
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceInformation.InstanceId', Values: [db] }]), [db]);
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceInformation.ResourceType', Values: ['EC2Instance'], Type: 'NotEqual' }]), [db]);
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceInformation.AgentVersion', Values: ['0.10.0'], Type: 'LessThan' }]), [db]);
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceDetailedInformation.CPUs', Values: ['2'], Type: 'GreaterThan' }]), [web]);
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:Application.Name', Values: ['nginx'] }]), [], 'a type Airlock does not gather matches nothing');

      const only = await server.root.call(inventory.GetInventory, { ResultAttributes: [{ TypeName: 'AWS:InstanceDetailedInformation' }] });
      assert.deepEqual(only.Entities.map((entity) => Object.keys(entity.Data)), [['AWS:InstanceDetailedInformation'], ['AWS:InstanceDetailedInformation']]);
      assert.deepEqual((await server.root.call(inventory.GetInventory, { ResultAttributes: [{ TypeName: 'AWS:Application' }] })).Entities, []);

      await refused(server.root.call(inventory.GetInventory, { Filters: [{ Key: 'AWS:InstanceInformation.PlatformName', Values: ['x'], Type: 'Exists' }] }), 'InvalidFilter', /Aggregators/);
      await refused(server.root.call(inventory.GetInventory, { Filters: [{ Key: 'PlatformName', Values: ['x'] }] }), 'InvalidFilter', /TYPE\.ATTRIBUTE/);
      await refused(server.root.call(inventory.GetInventory, { Filters: [{ Key: 'AWS:InstanceInformation.CPUs', Values: ['1', '2'], Type: 'GreaterThan' }] }), 'InvalidFilter', /one value/);
      await refused(server.root.call(inventory.GetInventory, { ResultAttributes: [{ TypeName: 'Software' }] }), 'InvalidResultAttributeException');
    });

    test('GetInventory pages, and follows an inventory sent again with a heartbeat', async () => {
      const first = await server.root.call(inventory.GetInventory, { MaxResults: 1 });
      assert.equal(first.Entities.length, 1);
      assert.ok(first.NextToken !== undefined);
      const second = await server.root.call(inventory.GetInventory, { MaxResults: 1, NextToken: first.NextToken });
      assert.deepEqual([...first.Entities, ...second.Entities].map((entity) => entity.Id), sorted(web, db));
      assert.equal(second.NextToken, undefined);

      const [webAgent] = agents;
      assert.ok(webAgent !== undefined);
      await webAgent.heartbeat({ ...CLOUD_INVENTORY, hostname: 'web-renamed', kernel: '6.8.0-50-generic' });
      // The server writes a changed inventory with its next batch of pings: write it now.
      await server.server.services.agents.flush();
      assert.deepEqual(await inventoryIds([{ Key: 'AWS:InstanceInformation.ComputerName', Values: ['web-renamed'] }]), [web]);
      const host = (await server.root.call(inventory.GetInventory, { Filters: [{ Key: 'AWS:InstanceInformation.InstanceId', Values: [web] }] })).Entities[0]?.Data['Custom:AirlockHost'];
      assert.equal(host?.Content[0]?.['KernelVersion'], '6.8.0-50-generic');
    });

    test('a deregistered instance has no inventory any more; properties still list it, Inactive', async () => {
      await server.root.call(fleet.DeregisterManagedInstance, { InstanceId: db });
      assert.deepEqual((await server.root.call(inventory.GetInventory, {})).Entities.map((entity) => entity.Id), [web]);
      assert.deepEqual(await propertyIds([{ Key: 'PingStatus', Values: ['Inactive'] }]), [db]);
    });
  });
}
