/** The fleet's operations (service `ssm`, and `ec2` for cloud instances), bound to their handlers. */
import { fleet as api } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext, type ResourceRef } from '../registry/handler.js';
import { activationHandlers as activations } from './activations.js';
import { instanceResource } from './arns.js';
import { cloudJoinHandlers as cloudJoin } from './cloud-join.js';
import { EC2_OPERATIONS } from './ec2.js';
import { instanceHandlers as instances } from './instances.js';
import { INVENTORY_OPERATIONS } from './inventory.js';
import { serviceSettingHandlers as settings } from './service-settings.js';

/** Tagging acts on the tagged resource: a policy may allow it only on some instances. */
async function taggedResource(input: { readonly ResourceId: string }, context: CallContext): Promise<readonly ResourceRef[]> {
  return [await instanceResource(input.ResourceId, context)];
}

export const FLEET_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateActivation, activations.createActivation),
  bind(api.DescribeActivations, activations.describeActivations),
  bind(api.DeleteActivation, activations.deleteActivation),
  bind(api.RegisterManagedInstance, activations.registerManagedInstance),
  bind(api.RegisterEC2Instance, cloudJoin.registerEC2Instance),
  bind(api.DescribeInstanceInformation, instances.describeInstanceInformation),
  bind(api.GetConnectionStatus, instances.getConnectionStatus),
  bind(api.DeregisterManagedInstance, instances.deregisterManagedInstance, { resources: async (input, context) => [await instanceResource(input.InstanceId, context)] }),
  bind(api.AddTagsToResource, instances.addTagsToResource, { resources: taggedResource }),
  bind(api.RemoveTagsFromResource, instances.removeTagsFromResource, { resources: taggedResource }),
  bind(api.ListTagsForResource, instances.listTagsForResource, { resources: taggedResource }),
  bind(api.GetServiceSetting, settings.getServiceSetting),
  bind(api.UpdateServiceSetting, settings.updateServiceSetting),
  bind(api.ResetServiceSetting, settings.resetServiceSetting),
  ...INVENTORY_OPERATIONS,
  ...EC2_OPERATIONS,
];
