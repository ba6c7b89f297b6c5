/**
 * Where people's identities come from: the built-in directory (default), an OpenID Connect
 * provider, a SAML 2.0 provider, or LDAP/Active Directory. IAM Identity Center changes this in
 * its console only (Settings → Identity source), so these operations are Airlock's own, under
 * `sso:`. The sign-in page learns the source from the public `portal:GetSignInOptions`.
 */
import { operation } from './operation.js';
import { s } from './schema.js';

export const IDENTITY_SOURCE_TYPES = ['BUILT_IN', 'OIDC', 'SAML', 'LDAP'] as const;
export type IdentitySourceType = (typeof IDENTITY_SOURCE_TYPES)[number];

const instanceArn = s.optional(s.string({ max: 1224 }));
const text = (max: number, doc?: string) => s.string({ min: 1, max, ...(doc === undefined ? {} : { doc }) });
const secret = (max: number, doc: string) => s.string({ min: 1, max, sensitive: true, doc });
const url = (doc: string) => s.string({ min: 8, max: 2048, pattern: /^[a-z][a-z0-9+.-]*:\/\/[^\s]+$/i, doc });
/** A claim, SAML attribute or LDAP attribute name. */
const sourceAttribute = (doc: string) => s.string({ min: 1, max: 256, pattern: /^[\w.:/#@-]+$/, doc });
const tagKey = s.string({ min: 1, max: 128, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u });

/** How the source's claims (or attributes) become the Airlock user; shared by every external source. */
export const attributeMapping = s.struct({
  UserName: s.optional(sourceAttribute('OIDC default preferred_username; LDAP default the UserNameAttribute.')),
  Email: s.optional(sourceAttribute('OIDC default email; LDAP default mail.')),
  DisplayName: s.optional(sourceAttribute('OIDC default name; LDAP default displayName.')),
  GivenName: s.optional(sourceAttribute('OIDC default given_name; LDAP default givenName.')),
  FamilyName: s.optional(sourceAttribute('OIDC default family_name; LDAP default sn.')),
  Groups: s.optional(sourceAttribute('OIDC default groups (a list of names). LDAP reads groups by search instead.')),
  PrincipalTags: s.optional(
    s.map(tagKey, sourceAttribute('The claim or attribute whose value the tag takes.'), {
      max: 50,
      doc: 'Attributes for access control: tag key → claim. Each becomes the user\'s Attribute and aws:PrincipalTag/{key} (e.g. SSMSessionRunAs → unix_user).',
    }),
  ),
});

export const oidcSettings = s.struct({
  IssuerUrl: s.required(url('The issuer; its /.well-known/openid-configuration is read (discovery). https, or http on loopback only.')),
  ClientId: s.required(text(512)),
  ClientSecret: s.optional(
    secret(1024, 'Sealed at rest, never returned. Omit to keep the stored one (same issuer and client), or for a public client (PKCE only).'),
  ),
  Scopes: s.optional(s.list(s.string({ min: 1, max: 128, pattern: /^[\x21\x23-\x5b\x5d-\x7e]+$/ }), { max: 20, doc: 'Default: openid profile email (openid is always asked for).' })),
  DisplayName: s.optional(text(64, 'The button text: "Sign in with {DisplayName}" (default: the issuer\'s host).')),
});

export const ldapSettings = s.struct({
  Url: s.required(url('ldaps://host:636, or ldap://host:389 with StartTls; plain ldap:// only to a loopback address.')),
  StartTls: s.optional(s.boolean('Upgrade an ldap:// connection with StartTLS (required for ldap:// outside loopback).')),
  CaCertificate: s.optional(s.string({ min: 1, max: 65536, doc: 'PEM: the CA that signed the directory\'s certificate (default: the system\'s CAs).' })),
  BindDn: s.optional(text(1024, 'The account that searches for users and groups (default: bind anonymously to search).')),
  BindPassword: s.optional(secret(1024, 'Sealed at rest, never returned. Omit to keep the stored one (same BindDn).')),
  UserSearchBase: s.required(text(1024, 'e.g. ou=people,dc=example,dc=com')),
  UserNameAttribute: s.optional(sourceAttribute('uid (default), or sAMAccountName / userPrincipalName on Active Directory.')),
  UserObjectClass: s.optional(sourceAttribute('Default person.')),
  GroupSearchBase: s.optional(text(1024, 'Where groups are searched (default: UserSearchBase\'s parent).')),
  GroupObjectClass: s.optional(sourceAttribute('Default groupOfNames (group on Active Directory).')),
  GroupMemberAttribute: s.optional(sourceAttribute('The group attribute that lists member DNs. Default member.')),
  GroupNameAttribute: s.optional(sourceAttribute('The group attribute whose value is the Airlock group\'s name. Default cn.')),
  NestedGroups: s.optional(
    s.enum(['IN_CHAIN', 'RECURSIVE', 'NONE'] as const, 'IN_CHAIN: Active Directory\'s LDAP_MATCHING_RULE_IN_CHAIN in one search; RECURSIVE (default): follow groups in groups search by search, any LDAP server; NONE: direct groups only.'),
  ),
  TimeoutSeconds: s.optional(s.integer({ min: 1, max: 60, doc: 'Connect and operation timeout (default 10).' })),
});

/**
 * A SAML 2.0 identity provider (docs/federation.md): its metadata imported (or its entity id,
 * sign-in URL and signing certificates given one by one, which win over the metadata), and
 * Airlock's side as a service provider. Assertions must be signed by one of the certificates.
 */
export const samlSettings = s.struct({
  IdpMetadataXml: s.optional(
    s.string({ min: 1, max: 200_000, doc: "The identity provider's metadata XML (EntityDescriptor): its entity id, single sign-on URL and signing certificates are read from it." }),
  ),
  IdpEntityId: s.optional(text(1024, "The identity provider's entity id (the assertions' Issuer). Default: from the metadata.")),
  IdpSsoUrl: s.optional(url("Where SP-initiated sign-in sends the browser (HTTP-Redirect binding). Default: from the metadata.")),
  IdpSigningCertificates: s.optional(
    s.list(s.string({ min: 64, max: 16_384 }), { min: 1, max: 4, doc: 'PEM or base64 X.509 certificates whose keys may sign assertions. Default: the metadata\'s signing keys.' }),
  ),
  SpEntityId: s.optional(text(1024, "Airlock's entity id, the Audience assertions must name. Default: {public url}/federation/saml/metadata.")),
  AllowIdpInitiated: s.optional(s.boolean('Accept sign-ins started at the identity provider (unsolicited responses). Default true.')),
  DisplayName: s.optional(text(64, 'The button text: "Sign in with {DisplayName}".')),
});

const MFA_FROM_SOURCE = ['REQUIRE_AIRLOCK_MFA', 'TRUST_IDENTITY_SOURCE'] as const;

const sourceSettings = {
  Type: s.required(s.enum(IDENTITY_SOURCE_TYPES, 'BUILT_IN (default): Airlock\'s own directory and passwords. OIDC, SAML, LDAP: an external source.')),
  Oidc: s.optional(oidcSettings),
  Ldap: s.optional(ldapSettings),
  Saml: s.optional(samlSettings),
  AttributeMapping: s.optional(attributeMapping),
  MfaFromIdentitySource: s.optional(
    s.enum(MFA_FROM_SOURCE, "REQUIRE_AIRLOCK_MFA (default): Airlock's MFA (the MFA settings) follows the external sign-in. TRUST_IDENTITY_SOURCE: a sign-in the source says used MFA (OIDC amr/acr, SAML AuthnContextClassRef) counts as MFA; others still get Airlock's."),
  ),
  AcceptedMfaMethods: s.optional(
    s.list(s.string({ min: 1, max: 256 }), { max: 20, doc: 'OIDC amr values (RFC 8176) that mean MFA. Default: mfa, hwk, swk, otp, sms, fido, face, fpt.' }),
  ),
  AcceptedMfaContexts: s.optional(s.list(s.string({ min: 1, max: 1024 }), { max: 20, doc: 'OIDC acr values or SAML AuthnContextClassRefs that mean MFA.' })),
  BreakGlassUserName: s.optional(
    s.string({ min: 1, max: 128, doc: 'A built-in user who keeps signing in with password and (always) MFA while an external source is set. Required for OIDC, SAML and LDAP.' }),
  ),
};

export const PutIdentitySource = operation({
  service: 'sso',
  name: 'PutIdentitySource',
  summary: "Airlock's own: set where identities come from. Changing the type needs ConfirmTypeChange equal to the new type.",
  input: s.struct({
    InstanceArn: instanceArn,
    ...sourceSettings,
    ConfirmTypeChange: s.optional(s.enum(IDENTITY_SOURCE_TYPES, 'Must equal Type when Type differs from the current one: changing the source changes who can sign in.')),
  }),
  output: s.struct({}),
});

export const GetIdentitySource = operation({
  service: 'sso',
  name: 'GetIdentitySource',
  summary: "Airlock's own: the identity source and its settings (secrets are never returned: HasClientSecret, HasBindPassword say whether one is stored).",
  input: s.struct({ InstanceArn: instanceArn }),
  output: s.struct({
    ...sourceSettings,
    HasClientSecret: s.optional(s.boolean()),
    HasBindPassword: s.optional(s.boolean()),
    /** Where the identity provider must send people back to (OIDC redirect URI; SAML ACS URL). */
    CallbackUrl: s.optional(s.string()),
    UpdatedDate: s.optional(s.timestamp()),
  }),
});

export const GetSignInOptions = operation({
  service: 'portal',
  name: 'GetSignInOptions',
  summary: 'For the sign-in page, before signing in: password sign-in, or the "Sign in with …" link of the external source.',
  caller: 'public',
  input: s.struct({}),
  output: s.struct({
    IdentitySourceType: s.required(s.enum(IDENTITY_SOURCE_TYPES)),
    PasswordSignIn: s.required(
      s.enum(['EVERYONE', 'BREAK_GLASS_ONLY'] as const, 'EVERYONE: the password form is how people sign in (BUILT_IN, LDAP). BREAK_GLASS_ONLY: the form is for the emergency account.'),
    ),
    ExternalSignIn: s.optional(
      s.struct({
        DisplayName: s.required(s.string()),
        Url: s.required(s.string({ doc: 'Open in the browser (a full-page navigation); append ?return_to=/path to come back there.' })),
      }),
    ),
  }),
});

export const IDENTITY_SOURCE_OPERATIONS = [PutIdentitySource, GetIdentitySource, GetSignInOptions] as const;
