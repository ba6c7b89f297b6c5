/** The external identity sources Airlock knows; each plugs in through the IdentitySource interface. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { ldapSource } from './ldap.js';
import { oidcSource } from './oidc.js';
import { samlSource } from './saml.js';
import type { IdentitySource } from './source.js';
import type { ExternalSourceType } from './setting.js';

export const IDENTITY_SOURCES: readonly IdentitySource[] = [oidcSource, ldapSource, samlSource];

export function sourceOf(type: ExternalSourceType): IdentitySource | undefined {
  return IDENTITY_SOURCES.find((source) => source.type === type);
}

/** Every browser source's routes, registered once at start (each request reads the current setting). */
export function identitySourceRoutes(app: FastifyInstance, services: Services): void {
  for (const source of IDENTITY_SOURCES) source.routes?.(app, services);
}
