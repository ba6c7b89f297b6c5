/** The fleet's operations (service `ssm`), bound to their handlers. */
import { fleet as api } from '@airlock/protocol';
import { bind, type BoundOperation } from '../registry/handler.js';
import { activationHandlers as activations } from './activations.js';
import { instanceHandlers as instances } from './instances.js';
import { serviceSettingHandlers as settings } from './service-settings.js';

export const FLEET_OPERATIONS: readonly BoundOperation[] = [
  bind(api.CreateActivation, activations.createActivation),
  bind(api.DescribeActivations, activations.describeActivations),
  bind(api.DeleteActivation, activations.deleteActivation),
  bind(api.RegisterManagedInstance, activations.registerManagedInstance),
  bind(api.DescribeInstanceInformation, instances.describeInstanceInformation),
  bind(api.GetConnectionStatus, instances.getConnectionStatus),
  bind(api.DeregisterManagedInstance, instances.deregisterManagedInstance),
  bind(api.AddTagsToResource, instances.addTagsToResource),
  bind(api.RemoveTagsFromResource, instances.removeTagsFromResource),
  bind(api.ListTagsForResource, instances.listTagsForResource),
  bind(api.GetServiceSetting, settings.getServiceSetting),
  bind(api.UpdateServiceSetting, settings.updateServiceSetting),
  bind(api.ResetServiceSetting, settings.resetServiceSetting),
];
