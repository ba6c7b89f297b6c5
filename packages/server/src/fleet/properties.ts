/**
 * ssm:DescribeInstanceProperties: the managed nodes (mi-… and cloud i-…) with what Airlock knows
 * of them, DescribeInstanceInformation's fields and a cloud instance's launch time and state,
 * filtered with AWS's operators on what is stored (and the tags).
 */
import { ApiError, fleet, inventory as api, ownValue, type InputOf } from '@airlock/protocol';
import { callerAccount } from '../identity/principal.js';
import type { CallContext } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { InstancesTable } from '../storage/schema.js';
import { stateOf } from './ec2.js';
import { pageWithTags, passes, type Candidate, type Operator } from './filters.js';
import { information } from './instances.js';
import { decodeToken } from './paging.js';

function propertyOf(services: Services, row: InstancesTable, tags: Readonly<Record<string, string>>, now: number) {
  const { IsLatestVersion: _latest, Name: _name, ...info } = information(services, row, now);
  const cloud = row.resource_type === 'EC2Instance';
  const name = row.name ?? ownValue(tags, 'Name');
  const state = cloud ? stateOf(services, row, now) : undefined;
  return {
    ...info,
    ...(name === undefined ? {} : { Name: name }),
    ...(state === undefined ? {} : { InstanceState: state.Name }),
    ...(row.launched_at === null ? {} : { LaunchTime: row.launched_at / 1000 }),
    SourceId: row.instance_id,
    SourceType: cloud ? ('AWS::EC2::Instance' as const) : ('AWS::SSM::ManagedInstance' as const),
  };
}

type Property = ReturnType<typeof propertyOf>;

/** The filter keys that are a property, and how to read it. */
const PROPERTIES: Readonly<Record<string, (property: Property) => string | undefined>> = {
  InstanceIds: (property) => property.InstanceId,
  AgentVersion: (property) => property.AgentVersion,
  PingStatus: (property) => property.PingStatus,
  PlatformTypes: (property) => property.PlatformType,
  PlatformName: (property) => property.PlatformName,
  PlatformVersion: (property) => property.PlatformVersion,
  ActivationIds: (property) => property.ActivationId,
  IamRole: (property) => property.IamRole,
  ResourceType: (property) => property.ResourceType,
  ComputerName: (property) => property.ComputerName,
  IPAddress: (property) => property.IPAddress,
  Name: (property) => property.Name,
};

/** The keys whose values are one of a few: a value outside them is a mistake, not a filter that matches nothing. */
const ENUMERATED: Readonly<Record<string, readonly string[]>> = { PingStatus: fleet.PING_STATUSES, PlatformTypes: fleet.PLATFORM_TYPES, ResourceType: fleet.RESOURCE_TYPES };

function filterOf(key: string, values: readonly string[], operator: Operator): (candidate: Candidate<Property>) => boolean {
  if (key === 'DocumentName' || key === 'AssociationStatus') throw new ApiError('InvalidFilterKey', `${key}: Airlock has no State Manager associations to filter on.`);
  if ((operator === 'LessThan' || operator === 'GreaterThan') && values.length !== 1) {
    throw new ApiError('InvalidInstancePropertyFilterValue', `${operator} compares with one value; the ${key} filter has ${values.length}.`);
  }
  if (key === 'tag-key') return ({ tags }) => passes(operator, values, Object.keys(tags));
  if (key.startsWith('tag:') && key.length > 4) {
    const tagKey = key.slice(4);
    return ({ tags }) => passes(operator, values, [ownValue(tags, tagKey)]);
  }
  const read = ownValue(PROPERTIES, key);
  if (read === undefined) throw new ApiError('InvalidFilterKey', `${key} is not a filter key. Keys: ${api.PROPERTY_FILTER_KEYS.join(', ')}.`);
  const allowed = ownValue(ENUMERATED, key);
  if (allowed !== undefined && (operator === 'Equal' || operator === 'NotEqual')) {
    const wrong = values.find((value) => !allowed.includes(value));
    if (wrong !== undefined) throw new ApiError('InvalidInstancePropertyFilterValue', `${wrong} is not a value of the ${key} filter: use ${allowed.join(', ')}.`);
  }
  return ({ item }) => passes(operator, values, [read(item)]);
}

async function describeInstanceProperties(input: InputOf<typeof api.DescribeInstanceProperties>, { services, now, principal }: CallContext) {
  const filters: { Key: string; Values: readonly string[]; Operator: Operator }[] = [
    ...(input.InstancePropertyFilterList ?? []).map((filter) => ({ Key: filter.key, Values: filter.valueSet, Operator: 'Equal' as const })),
    ...(input.FiltersWithOperator ?? []).map((filter) => ({ Key: filter.Key, Values: filter.Values, Operator: filter.Operator ?? 'Equal' })),
  ];
  const tests = filters.map((filter) => filterOf(filter.Key, filter.Values, filter.Operator));
  let query = services.db.selectFrom('instances').selectAll().where('account_id', '=', callerAccount(principal));
  // The instance ids asked for are read by key; every other filter is tested on the instances read.
  for (const filter of filters) if (filter.Key === 'InstanceIds' && filter.Operator === 'Equal') query = query.where('instance_id', 'in', filter.Values);
  const page = await pageWithTags(services.db, query, { after: decodeToken(input.NextToken), size: input.MaxResults ?? 50 }, (row, tags) => propertyOf(services, row, tags, now), tests);
  return { InstanceProperties: page.items, ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }) };
}

export const propertyHandlers = { describeInstanceProperties };
