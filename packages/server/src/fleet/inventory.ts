/**
 * ssm:GetInventory: the inventory each agent reports (in hello, and with a heartbeat every few
 * minutes; stored whole as JSON) as AWS's inventory types: AWS:InstanceInformation (agent,
 * platform, host name, address), AWS:InstanceDetailedInformation (the CPU count) and, for what
 * AWS's types have no attribute for (kernel, memory, every address), Custom:AirlockHost. Only
 * registered instances whose agent has reported are listed.
 */
import { ApiError, inventory as api, ownValue, type control, type InputOf } from '@airlock/protocol';
import { callerAccount } from '../identity/principal.js';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { InstancesTable } from '../storage/schema.js';
import { passes } from './filters.js';
import { pageOfInstances } from './instances.js';
import { decodeToken } from './paging.js';
import { propertyHandlers } from './properties.js';

type Item = { TypeName: string; SchemaVersion: string; CaptureTime: string; Content: Record<string, string>[] };
type Data = Record<string, Item>;

/** AWS's inventory time: seconds, UTC, no fraction (2024-05-01T12:00:00Z). */
const captureTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function storedInventory(row: InstancesTable): control.Inventory | undefined {
  if (row.inventory === null) return undefined;
  try {
    return JSON.parse(row.inventory) as control.Inventory;
  } catch {
    return undefined;
  }
}

/** Only attributes with a value: a count of 0 is the agent's "could not tell". */
function present(content: Record<string, string | number | null | undefined>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(content)) {
    if (value === null || value === undefined || value === '' || value === 0) continue;
    kept[key] = String(value);
  }
  return kept;
}

function dataOf(row: InstancesTable, inventory: control.Inventory): Data {
  // The agent sends its inventory again every few minutes while connected: it was current at most that long before the last ping.
  const captured = captureTime(row.last_ping_at ?? row.connected_at ?? row.registered_at);
  const item = (TypeName: string, content: Record<string, string | number | null | undefined>): Item => ({ TypeName, SchemaVersion: '1.0', CaptureTime: captured, Content: [present(content)] });
  return {
    'AWS:InstanceInformation': item('AWS:InstanceInformation', {
      AgentType: 'airlock-agent',
      AgentVersion: inventory.agentVersion,
      ComputerName: inventory.hostname,
      InstanceId: row.instance_id,
      InstanceStatus: 'Active',
      IpAddress: inventory.ipAddresses[0] ?? row.ip_address,
      PlatformName: inventory.platformName,
      PlatformType: row.platform_type,
      PlatformVersion: inventory.platformVersion,
      ResourceType: row.resource_type,
    }),
    'AWS:InstanceDetailedInformation': item('AWS:InstanceDetailedInformation', { CPUs: inventory.cpus }),
    'Custom:AirlockHost': item('Custom:AirlockHost', { KernelVersion: inventory.kernel, MemoryBytes: inventory.memoryBytes, IpAddresses: inventory.ipAddresses.join(',') }),
  };
}

type Filter = NonNullable<InputOf<typeof api.GetInventory>['Filters']>[number];

function filterOf(filter: Filter): (data: Data) => boolean {
  const type = filter.Type ?? 'Equal';
  if (type === 'Exists') throw new ApiError('InvalidFilter', 'The Exists filter type works only with Aggregators, which Airlock does not take.');
  const dot = filter.Key.lastIndexOf('.');
  const typeName = filter.Key.slice(0, Math.max(dot, 0));
  const attribute = filter.Key.slice(dot + 1);
  if (dot <= 0 || !api.INVENTORY_TYPE_NAME.test(typeName) || attribute === '') {
    throw new ApiError('InvalidFilter', `${filter.Key} is not a filter key: write TYPE.ATTRIBUTE, as AWS:InstanceInformation.PlatformName.`);
  }
  if ((type === 'LessThan' || type === 'GreaterThan') && filter.Values.length !== 1) {
    throw new ApiError('InvalidFilter', `${type} compares with one value; the ${filter.Key} filter has ${filter.Values.length}.`);
  }
  return (data) => {
    const item = Object.hasOwn(data, typeName) ? data[typeName] : undefined;
    return passes(type, filter.Values, (item?.Content ?? []).map((content) => ownValue(content, attribute)));
  };
}

async function getInventory(input: InputOf<typeof api.GetInventory>, { services, principal }: CallContext) {
  const tests = (input.Filters ?? []).map(filterOf);
  const only = input.ResultAttributes?.[0]?.TypeName;
  if (only !== undefined && !api.INVENTORY_TYPE_NAME.test(only)) {
    throw new ApiError('InvalidResultAttributeException', `${only} is not an inventory type: AWS's (AWS:InstanceInformation…) or a custom one (Custom:…). Airlock has ${api.INVENTORY_TYPES.join(', ')}.`);
  }
  const query = services.db
    .selectFrom('instances')
    .selectAll()
    .where('account_id', '=', callerAccount(principal))
    .where('deregistered_at', 'is', null)
    .where('inventory', 'is not', null);
  const page = await pageOfInstances(query, { after: decodeToken(input.NextToken), size: input.MaxResults ?? 50, filtered: true }, (rows) =>
    rows.map((row) => {
      const inventory = storedInventory(row);
      if (inventory === undefined) return undefined;
      const data = dataOf(row, inventory);
      if (!tests.every((test) => test(data))) return undefined;
      if (only === undefined) return { Id: row.instance_id, Data: data };
      const item = ownValue(data, only);
      return item === undefined ? undefined : { Id: row.instance_id, Data: { [only]: item } };
    }),
  );
  return { Entities: page.items, ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }) };
}

export const INVENTORY_OPERATIONS: readonly BoundOperation[] = [bind(api.DescribeInstanceProperties, propertyHandlers.describeInstanceProperties), bind(api.GetInventory, getInventory)];
