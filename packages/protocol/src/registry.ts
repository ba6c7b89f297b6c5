/** Every API operation, in the order help and docs list them. */
import { CLOUDTRAIL_OPERATIONS } from './cloudtrail.js';
import { EC2_OPERATIONS } from './ec2.js';
import { EVENTS_OPERATIONS } from './events.js';
import { IDENTITY_SOURCE_OPERATIONS } from './identity-sources.js';
import { IDENTITYSTORE_OPERATIONS } from './identitystore.js';
import { LOGS_OPERATIONS } from './logs.js';
import type { AnyOperation } from './operation.js';
import { ROLE_SESSION_OPERATIONS } from './role-sessions.js';
import { SCIM_TOKEN_OPERATIONS } from './scim-tokens.js';
import { SSO_ADMIN_OPERATIONS } from './sso-admin.js';
import { ORGANIZATIONS_OPERATIONS } from './organizations.js';
import { DEVICE_AUTHORIZATION_OPERATIONS, MFA_SETTINGS_OPERATIONS, PORTAL_OPERATIONS } from './portal.js';
import { DOCUMENT_OPERATIONS } from './ssm-documents.js';
import { FLEET_OPERATIONS } from './ssm-fleet.js';
import { INVENTORY_OPERATIONS } from './ssm-inventory.js';
import { SESSION_OPERATIONS } from './ssm-sessions.js';

export const OPERATIONS: readonly AnyOperation[] = [
  ...IDENTITYSTORE_OPERATIONS,
  ...PORTAL_OPERATIONS,
  ...DEVICE_AUTHORIZATION_OPERATIONS,
  ...MFA_SETTINGS_OPERATIONS,
  ...IDENTITY_SOURCE_OPERATIONS,
  ...SCIM_TOKEN_OPERATIONS,
  ...ORGANIZATIONS_OPERATIONS,
  ...SSO_ADMIN_OPERATIONS,
  ...ROLE_SESSION_OPERATIONS,
  ...FLEET_OPERATIONS,
  ...INVENTORY_OPERATIONS,
  ...EC2_OPERATIONS,
  ...SESSION_OPERATIONS,
  ...DOCUMENT_OPERATIONS,
  ...CLOUDTRAIL_OPERATIONS,
  ...LOGS_OPERATIONS,
  ...EVENTS_OPERATIONS,
];
