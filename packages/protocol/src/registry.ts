/** Every API operation, in the order help and docs list them. */
import { IDENTITYSTORE_OPERATIONS } from './identitystore.js';
import type { AnyOperation } from './operation.js';
import { DEVICE_AUTHORIZATION_OPERATIONS, MFA_SETTINGS_OPERATIONS, PORTAL_OPERATIONS } from './portal.js';

export const OPERATIONS: readonly AnyOperation[] = [
  ...IDENTITYSTORE_OPERATIONS,
  ...PORTAL_OPERATIONS,
  ...DEVICE_AUTHORIZATION_OPERATIONS,
  ...MFA_SETTINGS_OPERATIONS,
];
