/**
 * What an external identity source (OIDC, SAML, LDAP) provides. Each source only proves who
 * someone is and what the source says about them (an ExternalIdentity); everything after that
 * is shared (external-users.ts): the user made or updated just in time, group memberships
 * synced, Airlock's MFA when the source's does not count, the portal session.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { ExternalSourceType, IdentitySourceConfig } from './setting.js';

/** What a source vouches for about a person who just proved themselves to it. */
export interface ExternalIdentity {
  /** The source's stable id for the person (OIDC sub, SAML NameID, LDAP DN). */
  readonly subject: string;
  readonly userName: string;
  readonly email?: string;
  readonly displayName?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  /** Group names at the source; they match Airlock groups by DisplayName, without case. */
  readonly groups: readonly string[];
  /** Attributes for access control (aws:PrincipalTag/{key}), mapped by AttributeMapping.PrincipalTags. */
  readonly tags: Readonly<Record<string, string>>;
  /** True when the source says MFA was used and the settings trust it (MfaFromIdentitySource). */
  readonly mfa: boolean;
}

export interface IdentitySource {
  readonly type: ExternalSourceType;
  /** Users are linked under this key: another issuer, directory or entity never matches them. */
  readonly sourceKey: (config: IdentitySourceConfig) => string;
  /**
   * Refuses settings that cannot work or are unsafe, with an actionable ValidationException
   * (e.g. plain LDAP to a remote host). May contact the source (OIDC discovery).
   */
  readonly check: (config: IdentitySourceConfig, services: Services) => Promise<void>;
  /** Password sources (LDAP): the identity behind a user name and password; undefined when they are wrong. */
  readonly verifyPassword?: (config: IdentitySourceConfig, userName: string, password: string, services: Services) => Promise<ExternalIdentity | undefined>;
  /** Browser sources (OIDC, SAML): the sign-in page's button, a full-page navigation to `Url`. */
  readonly signInOption?: (config: IdentitySourceConfig, services: Services) => { DisplayName: string; Url: string };
  /** Browser sources: where the provider sends people back (the OIDC redirect URI, the SAML ACS URL). */
  readonly callbackUrl?: (services: Services) => string;
  /** Browser sources: their HTTP routes, registered once; each request reads the current setting. */
  readonly routes?: (app: FastifyInstance, services: Services) => void;
}
