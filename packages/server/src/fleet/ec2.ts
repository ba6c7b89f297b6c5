/**
 * Service `ec2` for the cloud-joined instances (`i-…`): DescribeInstances shows what Airlock
 * knows of them (an instance's State only while its agent is Online, see stateOf), CreateTags and
 * DeleteTags change the instance's one set of tags, the one Systems Manager's filters and the
 * policies' aws:ResourceTag/ec2:ResourceTag conditions read. Errors as EC2 names them.
 *
 * A cloud instance is EC2's while it is registered: a deregistered one is no longer described or
 * tagged here (ssm:DescribeInstanceInformation still lists it, Inactive).
 */
import { createHash } from 'node:crypto';
import { ApiError, ec2 as api, fleet, ownValue, type InputOf } from '@airlock/protocol';
import { callerAccount } from '../identity/principal.js';
import { bind, type BoundOperation, type CallContext, type ResourceRef } from '../registry/handler.js';
import type { Services } from '../services.js';
import type { InstancesTable } from '../storage/schema.js';
import { instanceResource } from './arns.js';
import { pageWithTags, wildcard, type Candidate } from './filters.js';
import { putTags, type InstanceQuery } from './instances.js';
import { decodeToken } from './paging.js';
import { checkTags, type Tag } from './tags.js';

/** The cloud instances of an account that EC2's operations see: registered, not deregistered. */
function cloudInstances(services: Services, accountId: string): InstanceQuery {
  return services.db.selectFrom('instances').selectAll().where('account_id', '=', accountId).where('resource_type', '=', 'EC2Instance').where('deregistered_at', 'is', null);
}

/**
 * EC2's state of an instance, as far as Airlock knows it: `running` while its agent is Online (it
 * sent a heartbeat within three intervals, which a stopped instance cannot). Otherwise nothing:
 * an agent out of reach may be on a stopped, terminated or running instance, and Airlock has no
 * AWS credentials to ask EC2.
 */
export function stateOf(services: Services, row: InstancesTable, now: number): { Code: number; Name: api.InstanceStateName } | undefined {
  return services.agents.presence(row, now).status === 'Online' ? { Code: api.INSTANCE_STATES.running, Name: 'running' } : undefined;
}

/**
 * EC2's PlatformDetails from the operating system the agent reports: Linux/UNIX, except for Red
 * Hat and SUSE, which EC2 names after their AMI's billing code (unknown here), so nothing for them.
 */
function platformDetails(row: InstancesTable): string | undefined {
  if (row.platform_type !== 'Linux') return undefined;
  return row.platform_name !== null && /red ?hat|suse|sles/i.test(row.platform_name) ? undefined : 'Linux/UNIX';
}

/** Airlock's reservation id for an instance: stable, `r-` + 17 hex, not EC2's (one per launch request, unknown here). */
function reservationId(instanceId: string): string {
  return `r-${createHash('sha256').update(instanceId).digest('hex').slice(0, 17)}`;
}

function instanceOf(services: Services, row: InstancesTable, tags: Readonly<Record<string, string>>, now: number) {
  const state = stateOf(services, row, now);
  const platform = platformDetails(row);
  const tagList = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    InstanceId: row.instance_id,
    ...(state === undefined ? {} : { State: state }),
    ...(row.ip_address === null ? {} : { PrivateIpAddress: row.ip_address }),
    ...(row.launched_at === null ? {} : { LaunchTime: row.launched_at / 1000 }),
    ...(platform === undefined ? {} : { PlatformDetails: platform }),
    ...(tagList.length === 0 ? {} : { Tags: tagList }),
  };
}

type Described = ReturnType<typeof instanceOf>;

/** A filter as a test of one instance: any of its values for the name matches any of the patterns. */
function filterOf(name: string, values: readonly string[]): (candidate: Candidate<Described>) => boolean {
  const patterns = values.map(wildcard);
  const any = (actual: readonly (string | undefined)[]): boolean => actual.some((value) => value !== undefined && patterns.some((pattern) => pattern.test(value)));
  if (name.startsWith('tag:') && name.length > 4) {
    const key = name.slice(4);
    return ({ tags }) => any([ownValue(tags, key)]);
  }
  switch (name) {
    case 'instance-id':
      return ({ item }) => any([item.InstanceId]);
    case 'instance-state-name':
      return ({ item }) => any([item.State?.Name]);
    case 'instance-state-code':
      return ({ item }) => any([item.State === undefined ? undefined : String(item.State.Code)]);
    case 'private-ip-address':
      return ({ item }) => any([item.PrivateIpAddress]);
    case 'owner-id':
      return ({ row }) => any([row.account_id]);
    case 'platform-details':
      return ({ item }) => any([item.PlatformDetails]);
    case 'launch-time':
      return ({ row }) => any([row.launched_at === null ? undefined : new Date(row.launched_at).toISOString()]);
    case 'tag-key':
      return ({ tags }) => any(Object.keys(tags));
    case 'tag-value':
      return ({ tags }) => any(Object.values(tags));
    default:
      throw new ApiError('InvalidParameterValue', `The filter '${name}' is invalid: Airlock filters instances on ${api.DESCRIBE_INSTANCES_FILTERS.join(', ')}.`);
  }
}

/** The instance ids given, each once; InvalidInstanceID.Malformed for one that is not `i-…`. */
function instanceIds(ids: readonly string[]): string[] {
  for (const id of ids) {
    if (!api.EC2_INSTANCE_ID.test(id)) {
      const hint = id.startsWith('mi-') ? ` (${id} is a managed instance: see ssm describe-instance-information)` : '';
      throw new ApiError('InvalidInstanceID.Malformed', `Invalid id: "${id}"${hint}.`);
    }
  }
  return [...new Set(ids)];
}

/** The resources to tag: instance ids; InvalidID for anything else (Airlock has no other EC2 resources). */
function resourceIds(ids: readonly string[]): string[] {
  for (const id of ids) {
    if (id.startsWith('mi-')) throw new ApiError('InvalidID', `The ID '${id}' is not valid for EC2: it is a managed instance; tag it with ssm add-tags-to-resource.`);
    if (!id.startsWith('i-')) throw new ApiError('InvalidID', `The ID '${id}' is not valid: the EC2 resources Airlock tags are instances (i-…).`);
  }
  return instanceIds(ids);
}

/** InvalidInstanceID.NotFound, worded as EC2 words it, unless every id is a cloud instance of the account. */
async function mustExist(query: InstanceQuery, ids: readonly string[]): Promise<void> {
  const found = new Set((await query.where('instance_id', 'in', ids).execute()).map((row) => row.instance_id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length === 1) throw new ApiError('InvalidInstanceID.NotFound', `The instance ID '${missing.join('')}' does not exist`);
  if (missing.length > 1) throw new ApiError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
}

function pageToken(token: string | undefined): string | undefined {
  try {
    return decodeToken(token);
  } catch {
    throw new ApiError('InvalidPaginationToken', 'The specified pagination token is not valid or is expired: give the NextToken a previous call returned.');
  }
}

async function describeInstances(input: InputOf<typeof api.DescribeInstances>, { services, now, principal }: CallContext) {
  const given = input.InstanceIds ?? [];
  if (given.length > 0 && input.MaxResults !== undefined) {
    throw new ApiError('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults.');
  }
  const tests = (input.Filters ?? []).map((filter) => filterOf(filter.Name, filter.Values));
  const after = pageToken(input.NextToken);
  const accountId = callerAccount(principal);
  let query = cloudInstances(services, accountId);
  if (given.length > 0) {
    const ids = instanceIds(given);
    await mustExist(query, ids);
    query = query.where('instance_id', 'in', ids);
  }
  const page = await pageWithTags(services.db, query, { after, size: input.MaxResults ?? 1000 }, (row, tags) => instanceOf(services, row, tags, now), tests);
  return {
    Reservations: page.items.map((item) => ({ ReservationId: reservationId(item.InstanceId), OwnerId: accountId, Instances: [item] })),
    ...(page.nextToken === undefined ? {} : { NextToken: page.nextToken }),
  };
}

/** The instances to tag: well-formed, cloud instances of the account, registered. */
async function taggable(resources: readonly string[], { services, principal }: CallContext): Promise<string[]> {
  const ids = resourceIds(resources);
  await mustExist(cloudInstances(services, callerAccount(principal)), ids);
  return ids;
}

/** EC2's tags (Value optional, empty by default) checked as every instance tag is, with EC2's error codes. */
function tagsToSet(tags: readonly { Key: string; Value?: string }[]): Tag[] {
  try {
    return checkTags(tags.map((tag) => ({ Key: tag.Key, Value: tag.Value ?? '' })));
  } catch (error) {
    if (error instanceof ApiError) throw new ApiError(error.code === 'TooManyTagsError' ? 'TagLimitExceeded' : 'InvalidParameterValue', error.message);
    throw error;
  }
}

async function createTags(input: InputOf<typeof api.CreateTags>, context: CallContext) {
  const ids = await taggable(input.Resources, context);
  const tags = tagsToSet(input.Tags);
  await context.services.db.transaction().execute(async (trx) => {
    for (const id of ids) {
      await putTags(trx, id, tags, (count) => new ApiError('TagLimitExceeded', `The maximum number of tags for a resource has been reached: ${id} would have ${count} tags; at most ${fleet.MAX_TAGS}.`));
    }
  });
  return {};
}

async function deleteTags(input: InputOf<typeof api.DeleteTags>, context: CallContext) {
  const ids = await taggable(input.Resources, context);
  for (const tag of input.Tags ?? []) {
    if (tag.Key.toLowerCase().startsWith('aws:')) throw new ApiError('InvalidParameterValue', `Tag key ${tag.Key}: keys starting with aws: are reserved.`);
  }
  await context.services.db.transaction().execute(async (trx) => {
    const ofThese = trx.deleteFrom('instance_tags').where('instance_id', 'in', ids);
    if (input.Tags === undefined) {
      await ofThese.execute();
      return;
    }
    for (const tag of input.Tags) {
      const byKey = ofThese.where('key', '=', tag.Key);
      await (tag.Value === undefined ? byKey : byKey.where('value', '=', tag.Value)).execute();
    }
  });
  return {};
}

/** Tagging acts on each instance named: a policy may allow it only on some (their ARNs and tags). A malformed id is refused first. */
async function taggedInstances(input: { readonly Resources: readonly string[] }, context: CallContext): Promise<readonly ResourceRef[]> {
  return Promise.all(resourceIds(input.Resources).map((id) => instanceResource(id, context)));
}

export const EC2_OPERATIONS: readonly BoundOperation[] = [
  bind(api.DescribeInstances, describeInstances),
  bind(api.CreateTags, createTags, { resources: taggedInstances }),
  bind(api.DeleteTags, deleteTags, { resources: taggedInstances }),
];
