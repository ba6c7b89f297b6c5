/**
 * @airlock/protocol: the contract between Airlock's parts. API operations and their shapes,
 * the error catalogue. No I/O, no Node or DOM types.
 */
export * from './errors.js';
export * from './operation.js';
export * from './schema.js';
export { ownValue } from './own.js';
export * as identitystore from './identitystore.js';
export * as portal from './portal.js';
export * as identitySources from './identity-sources.js';
export * as scimTokens from './scim-tokens.js';
export * as organizations from './organizations.js';
export * as ssoAdmin from './sso-admin.js';
export * as roleSessions from './role-sessions.js';
export * as control from './control.js';
export * as fleet from './ssm-fleet.js';
export * as inventory from './ssm-inventory.js';
export * as ec2 from './ec2.js';
export * as cloudtrail from './cloudtrail.js';
export * as events from './events.js';
export * as sessions from './ssm-sessions.js';
export * as documents from './ssm-documents.js';
export * as logs from './logs.js';
export * as data from './data-channel.js';
export * as streams from './data-streams.js';
export { OPERATIONS } from './registry.js';
export * as forwarding from './forwarding.js';
