/** Instances as the admin pages need them: each with its tags and ARN. */
import { ec2, fleet, type OutputOf } from '@airlock/protocol';
import { call } from '../../app/api';
import { allInstances, type InstanceProperty } from '../sessions/targets';

export type Tag = OutputOf<typeof fleet.ListTagsForResource>['TagList'][number];

export interface TaggedInstance {
  readonly instance: InstanceProperty;
  readonly tags: readonly Tag[];
}

/** A managed instance's tags are Systems Manager's (mi-…); a cloud-joined one's are EC2's (i-…). */
export async function instanceTags(instanceId: string): Promise<Tag[]> {
  if (instanceId.startsWith('mi-')) return (await call(fleet.ListTagsForResource, { ResourceType: 'ManagedInstance', ResourceId: instanceId })).TagList;
  const { Reservations } = await call(ec2.DescribeInstances, { InstanceIds: [instanceId] });
  return Reservations.flatMap((reservation) => reservation.Instances).flatMap((instance) => instance.Tags ?? []);
}

export async function taggedInstances(): Promise<TaggedInstance[]> {
  const instances = await allInstances();
  return Promise.all(instances.map(async (instance) => ({ instance, tags: await instanceTags(instance.InstanceId) })));
}

/**
 * The server's region: ARNs need it and no call returns it alone; the activation tier service
 * setting's ARN (arn:aws:ssm:{region}:{account}:servicesetting/…) carries it.
 */
export async function serverRegion(): Promise<string> {
  const { ServiceSetting } = await call(fleet.GetServiceSetting, { SettingId: fleet.ACTIVATION_TIER_SETTING });
  return ServiceSetting.ARN.split(':')[3] ?? '';
}

export function instanceArn(instanceId: string, region: string, account: string): string {
  return instanceId.startsWith('mi-') ? `arn:aws:ssm:${region}:${account}:managed-instance/${instanceId}` : `arn:aws:ec2:${region}:${account}:instance/${instanceId}`;
}

export function instanceLabel(instance: InstanceProperty): string {
  return instance.Name === undefined ? instance.InstanceId : `${instance.Name} (${instance.InstanceId})`;
}
