/**
 * The identity-source setting: which source people sign in through, its settings, and the
 * break-glass user. Stored as one JSON setting; secrets (an OIDC client secret, an LDAP bind
 * password) are sealed with the server's secret box and never leave this module in the clear
 * except through `secret()`, for the source that needs them.
 */
import type { identitySources as api, InputOf } from '@airlock/protocol';
import type { Services } from '../../services.js';
import type { Db } from '../../storage/db.js';
import { readSetting, writeSetting } from '../../storage/settings.js';

export type IdentitySourceType = api.IdentitySourceType;
export type ExternalSourceType = Exclude<IdentitySourceType, 'BUILT_IN'>;

type PutInput = InputOf<typeof api.PutIdentitySource>;
type OidcInput = NonNullable<PutInput['Oidc']>;
type LdapInput = NonNullable<PutInput['Ldap']>;

/** The settings as stored and shown: the input without its secrets. */
export interface SourceSettings {
  readonly Type: IdentitySourceType;
  readonly Oidc?: Omit<OidcInput, 'ClientSecret'>;
  readonly Ldap?: Omit<LdapInput, 'BindPassword'>;
  readonly Saml?: NonNullable<PutInput['Saml']>;
  readonly AttributeMapping?: NonNullable<PutInput['AttributeMapping']>;
  readonly MfaFromIdentitySource?: NonNullable<PutInput['MfaFromIdentitySource']>;
  readonly AcceptedMfaMethods?: string[];
  readonly AcceptedMfaContexts?: string[];
  readonly BreakGlassUserName?: string;
}

export type SecretName = 'ClientSecret' | 'BindPassword';

interface Stored {
  readonly settings: SourceSettings;
  readonly sealed: Partial<Record<SecretName, string>>;
  readonly updatedAt: number;
}

/** The current source, as every part of sign-in reads it. */
export interface IdentitySourceConfig {
  readonly settings: SourceSettings;
  readonly updatedAt: number | undefined;
  hasSecret(name: SecretName): boolean;
  /** The secret in the clear, for the one call that needs it; never log or return it. */
  secret(name: SecretName): string | undefined;
}

const SETTING = 'identity_source';
const BUILT_IN: Stored = { settings: { Type: 'BUILT_IN' }, sealed: {}, updatedAt: 0 };

async function readStored(db: Db): Promise<Stored> {
  const text = await readSetting(db, SETTING);
  return text === undefined ? BUILT_IN : (JSON.parse(text) as Stored);
}

function configOf(stored: Stored, services: Pick<Services, 'secrets'>): IdentitySourceConfig {
  return {
    settings: stored.settings,
    updatedAt: stored.updatedAt === 0 ? undefined : stored.updatedAt,
    hasSecret: (name) => stored.sealed[name] !== undefined,
    secret: (name) => {
      const sealed = stored.sealed[name];
      return sealed === undefined ? undefined : Buffer.from(services.secrets.open(sealed)).toString('utf8');
    },
  };
}

export async function identitySource(services: Pick<Services, 'db' | 'secrets'>): Promise<IdentitySourceConfig> {
  return configOf(await readStored(services.db), services);
}

/**
 * New settings, ready to check and then save. A secret given is sealed; a secret left out is
 * kept when it still belongs to the same counterpart (same issuer and client; same bind DN),
 * and dropped otherwise.
 */
export async function prepareIdentitySource(
  services: Pick<Services, 'db' | 'secrets'>,
  input: PutInput,
  now: number,
): Promise<{ readonly config: IdentitySourceConfig; save(): Promise<void> }> {
  const previous = await readStored(services.db);
  const sealed: Partial<Record<SecretName, string>> = {};
  const { InstanceArn: _instance, ConfirmTypeChange: _confirm, Oidc, Ldap, ...rest } = input;
  const settings: { -readonly [K in keyof SourceSettings]: SourceSettings[K] } = { ...rest };
  if (Oidc !== undefined) {
    const { ClientSecret, ...oidc } = Oidc;
    settings.Oidc = oidc;
    const before = previous.settings.Oidc;
    const kept = before?.IssuerUrl === oidc.IssuerUrl && before.ClientId === oidc.ClientId ? previous.sealed.ClientSecret : undefined;
    const value = ClientSecret === undefined ? kept : services.secrets.seal(Buffer.from(ClientSecret, 'utf8'));
    if (value !== undefined) sealed.ClientSecret = value;
  }
  if (Ldap !== undefined) {
    const { BindPassword, ...ldap } = Ldap;
    settings.Ldap = ldap;
    const kept = previous.settings.Ldap?.BindDn === ldap.BindDn ? previous.sealed.BindPassword : undefined;
    const value = BindPassword === undefined ? kept : services.secrets.seal(Buffer.from(BindPassword, 'utf8'));
    if (value !== undefined) sealed.BindPassword = value;
  }
  const stored: Stored = { settings, sealed, updatedAt: now };
  return { config: configOf(stored, services), save: () => writeSetting(services.db, SETTING, JSON.stringify(stored)) };
}

/** The break-glass user keeps password sign-in (with MFA, always) while an external source is set. */
export function isBreakGlass(config: IdentitySourceConfig, userName: string): boolean {
  const name = config.settings.BreakGlassUserName;
  return config.settings.Type !== 'BUILT_IN' && name !== undefined && name.toLowerCase() === userName.toLowerCase();
}

/** Hosts a plain (unencrypted) connection may go to: this machine only. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
