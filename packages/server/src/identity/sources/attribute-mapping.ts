/**
 * From what a source says about a person (OIDC claims, SAML attributes, LDAP attributes: names
 * with one or several values) to an ExternalIdentity, through AttributeMapping and each source's
 * default names.
 */
import { ApiError } from '@airlock/protocol';
import type { SourceSettings } from './setting.js';
import type { ExternalIdentity } from './source.js';

type Mapping = NonNullable<SourceSettings['AttributeMapping']>;
/** The attribute names a source reads when the mapping leaves a field out. */
export type MappingDefaults = Required<Omit<Mapping, 'PrincipalTags'>>;

export const OIDC_DEFAULTS: MappingDefaults = {
  UserName: 'preferred_username',
  Email: 'email',
  DisplayName: 'name',
  GivenName: 'given_name',
  FamilyName: 'family_name',
  Groups: 'groups',
};

/** The values of an attribute as strings: a single value, a list, or nothing. */
export function valuesOf(attributes: Readonly<Record<string, unknown>>, name: string): string[] {
  const value = attributes[name];
  const list: unknown[] = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.filter((item): item is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof item)).map(String);
}

const first = (attributes: Readonly<Record<string, unknown>>, name: string): string | undefined => valuesOf(attributes, name)[0];

/** The identity the attributes describe; refuses when the user name attribute is missing. */
export function mapIdentity(
  settings: SourceSettings,
  defaults: MappingDefaults,
  subject: string,
  attributes: Readonly<Record<string, unknown>>,
  groups: readonly string[] | undefined,
  mfa: boolean,
): ExternalIdentity {
  const mapping = { ...defaults, ...settings.AttributeMapping };
  const userName = first(attributes, mapping.UserName);
  if (userName === undefined || userName === '') {
    throw new ApiError('NotAuthorizedException', `The identity source sent no ${mapping.UserName} for this person: set AttributeMapping.UserName to a claim or attribute it sends.`);
  }
  const tags: Record<string, string> = {};
  for (const [tag, attribute] of Object.entries(settings.AttributeMapping?.PrincipalTags ?? {})) {
    const value = first(attributes, attribute);
    if (value !== undefined) tags[tag] = value.slice(0, 256);
  }
  const optional = (field: keyof MappingDefaults, key: keyof ExternalIdentity) => {
    const value = first(attributes, mapping[field]);
    return value === undefined || value === '' ? {} : { [key]: value.slice(0, 1024) };
  };
  return {
    subject,
    userName,
    ...optional('Email', 'email'),
    ...optional('DisplayName', 'displayName'),
    ...optional('GivenName', 'givenName'),
    ...optional('FamilyName', 'familyName'),
    groups: groups ?? valuesOf(attributes, mapping.Groups),
    tags,
    mfa,
  };
}

/** RFC 8176 methods that involve more than one factor or a factor that is not a password. */
export const DEFAULT_MFA_METHODS = ['mfa', 'hwk', 'swk', 'otp', 'sms', 'fido', 'face', 'fpt'];

/** Whether the source's own MFA counts: only when the settings trust it and it says it was used. */
export function sourceMfaCounts(settings: SourceSettings, methods: readonly string[], contexts: readonly string[]): boolean {
  if (settings.MfaFromIdentitySource !== 'TRUST_IDENTITY_SOURCE') return false;
  const accepted = settings.AcceptedMfaMethods ?? DEFAULT_MFA_METHODS;
  const acceptedContexts = settings.AcceptedMfaContexts ?? [];
  return methods.some((method) => accepted.includes(method)) || contexts.some((context) => acceptedContexts.includes(context));
}
