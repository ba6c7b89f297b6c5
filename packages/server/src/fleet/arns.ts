/**
 * The ARNs of instances, as policies name them: cloud instances are EC2's
 * (`arn:aws:ec2:{region}:{account}:instance/i-…`), managed instances Systems Manager's
 * (`arn:aws:ssm:{region}:{account}:managed-instance/mi-…`).
 */
import type { CallContext, ResourceRef } from '../registry/handler.js';
import { callerAccount } from '../identity/principal.js';
import type { InstancesTable } from '../storage/schema.js';

type Placed = Pick<InstancesTable, 'instance_id' | 'account_id' | 'region'>;

export function instanceArn(instance: Placed, serverRegion: string): string {
  const region = instance.region ?? serverRegion;
  return instance.instance_id.startsWith('mi-')
    ? `arn:aws:ssm:${region}:${instance.account_id}:managed-instance/${instance.instance_id}`
    : `arn:aws:ec2:${region}:${instance.account_id}:instance/${instance.instance_id}`;
}

/**
 * An instance of the caller's account as a resource for the access check, with its tags. One
 * that does not exist is named all the same (the caller's account and the server's region), so
 * that a refusal does not tell whether it exists.
 */
export async function instanceResource(instanceId: string, { services, principal }: CallContext): Promise<ResourceRef> {
  const accountId = callerAccount(principal);
  const row = await services.db
    .selectFrom('instances')
    .select(['instance_id', 'account_id', 'region'])
    .where('instance_id', '=', instanceId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (row === undefined) return { arn: instanceArn({ instance_id: instanceId, account_id: accountId, region: null }, services.config.region) };
  const tags = await services.db.selectFrom('instance_tags').select(['key', 'value']).where('instance_id', '=', instanceId).execute();
  return { arn: instanceArn(row, services.config.region), tags: Object.fromEntries(tags.map((tag) => [tag.key, tag.value])) };
}
