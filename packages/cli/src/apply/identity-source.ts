/**
 * The `identitySource` section of a setup file (docs/apply.md): sso:PutIdentitySource's input
 * written in the file's camelCase, secrets taken from environment variables (never from the
 * file), a CA certificate from a file beside it. Reading checks it against the API's shape;
 * planning compares it with sso:GetIdentitySource (secrets cannot be compared: the server never
 * returns them, so a source that is otherwise unchanged is left as it is).
 */
import { identitySources, validate, type InputOf, type OutputOf } from '@airlock/protocol';
import type { Path } from './model.js';

export type IdentitySourceInput = InputOf<typeof identitySources.PutIdentitySource>;
export type CurrentIdentitySource = OutputOf<typeof identitySources.GetIdentitySource>;

export interface IdentitySourceSpec {
  /** The API input, secrets included; ConfirmTypeChange as the file says. */
  readonly input: IdentitySourceInput;
}

/** What reading needs of the file's checker. */
export interface SectionChecker {
  mapping(value: unknown, path: Path, known: readonly string[], what: string): Record<string, unknown> | undefined;
  fail(path: Path, message: string): void;
}

const KEYS = {
  section: ['type', 'confirmTypeChange', 'breakGlassUser', 'oidc', 'ldap', 'saml', 'attributeMapping', 'mfaFromIdentitySource', 'acceptedMfaMethods', 'acceptedMfaContexts'],
  oidc: ['issuerUrl', 'clientId', 'clientSecretEnv', 'scopes', 'displayName'],
  ldap: ['url', 'startTls', 'caCertificateFile', 'bindDn', 'bindPasswordEnv', 'userSearchBase', 'userNameAttribute', 'userObjectClass', 'groupSearchBase', 'groupObjectClass', 'groupMemberAttribute', 'groupNameAttribute', 'nestedGroups', 'timeoutSeconds'],
  saml: ['idpMetadataFile', 'idpEntityId', 'idpSsoUrl', 'idpSigningCertificateFiles', 'spEntityId', 'allowIdpInitiated', 'displayName'],
  attributeMapping: ['userName', 'email', 'displayName', 'givenName', 'familyName', 'groups', 'principalTags'],
} as const;

const pascal = (key: string): string => key.charAt(0).toUpperCase() + key.slice(1);

/** `{issuerUrl: …}` → `{IssuerUrl: …}`, leaving out the keys handled apart. */
function renamed(map: Record<string, unknown>, except: readonly string[] = []): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).filter(([key]) => !except.includes(key)).map(([key, value]) => [pascal(key), value]));
}

function secretFromEnv(c: SectionChecker, path: Path, name: unknown, env: (name: string) => string | undefined): string | undefined {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    c.fail(path, 'must name an environment variable (letters, digits, _) that holds the secret');
    return undefined;
  }
  const value = env(name);
  if (value === undefined || value === '') c.fail(path, `the environment variable ${name} is not set: export it before running apply (secrets are never written in the file)`);
  return value;
}

/** A file named in the section, read relative to the setup file; undefined (and a problem) when it cannot be. */
async function fileBeside(c: SectionChecker, path: Path, file: unknown, readFile: (file: string) => Promise<string>, what: string): Promise<string | undefined> {
  try {
    if (typeof file !== 'string') throw new Error('give the path of a file');
    return await readFile(file);
  } catch (error) {
    c.fail(path, `cannot read the ${what}: ${error instanceof Error ? error.message : 'unknown error'}`);
    return undefined;
  }
}

/** Reads and checks the section; `readFile` reads a file named in it, relative to the setup file. */
export async function readIdentitySource(
  c: SectionChecker,
  value: unknown,
  readFile: (file: string) => Promise<string>,
  env: (name: string) => string | undefined,
): Promise<IdentitySourceSpec | undefined> {
  const path: Path = ['identitySource'];
  const map = c.mapping(value, path, KEYS.section, 'identitySource');
  if (map === undefined) return undefined;
  const input: Record<string, unknown> = renamed(map, ['breakGlassUser', 'oidc', 'ldap', 'saml', 'attributeMapping']);
  if (map['breakGlassUser'] !== undefined) input['BreakGlassUserName'] = map['breakGlassUser'];
  const oidc = map['oidc'] === undefined ? undefined : c.mapping(map['oidc'], [...path, 'oidc'], KEYS.oidc, 'identitySource.oidc');
  if (oidc !== undefined) {
    const secret = oidc['clientSecretEnv'] === undefined ? undefined : secretFromEnv(c, [...path, 'oidc', 'clientSecretEnv'], oidc['clientSecretEnv'], env);
    input['Oidc'] = { ...renamed(oidc, ['clientSecretEnv']), ...(secret === undefined ? {} : { ClientSecret: secret }) };
  }
  const ldap = map['ldap'] === undefined ? undefined : c.mapping(map['ldap'], [...path, 'ldap'], KEYS.ldap, 'identitySource.ldap');
  if (ldap !== undefined) {
    const password = ldap['bindPasswordEnv'] === undefined ? undefined : secretFromEnv(c, [...path, 'ldap', 'bindPasswordEnv'], ldap['bindPasswordEnv'], env);
    const ca = ldap['caCertificateFile'] === undefined ? undefined : await fileBeside(c, [...path, 'ldap', 'caCertificateFile'], ldap['caCertificateFile'], readFile, 'CA certificate');
    input['Ldap'] = { ...renamed(ldap, ['bindPasswordEnv', 'caCertificateFile']), ...(password === undefined ? {} : { BindPassword: password }), ...(ca === undefined ? {} : { CaCertificate: ca }) };
  }
  const saml = map['saml'] === undefined ? undefined : c.mapping(map['saml'], [...path, 'saml'], KEYS.saml, 'identitySource.saml');
  if (saml !== undefined) {
    const metadata = saml['idpMetadataFile'] === undefined ? undefined : await fileBeside(c, [...path, 'saml', 'idpMetadataFile'], saml['idpMetadataFile'], readFile, "identity provider's metadata");
    const certificateFiles = saml['idpSigningCertificateFiles'];
    let certificates: (string | undefined)[] | undefined;
    if (certificateFiles !== undefined) {
      if (Array.isArray(certificateFiles)) certificates = await Promise.all(certificateFiles.map((file, i) => fileBeside(c, [...path, 'saml', 'idpSigningCertificateFiles', i], file, readFile, 'signing certificate')));
      else c.fail([...path, 'saml', 'idpSigningCertificateFiles'], 'must be a list of PEM files');
    }
    input['Saml'] = {
      ...renamed(saml, ['idpMetadataFile', 'idpSigningCertificateFiles']),
      ...(metadata === undefined ? {} : { IdpMetadataXml: metadata }),
      // A file that could not be read is a problem already: no second one from the API's shape.
      ...(certificates === undefined || certificates.includes(undefined) ? {} : { IdpSigningCertificates: certificates }),
    };
  }
  const mapping = map['attributeMapping'] === undefined ? undefined : c.mapping(map['attributeMapping'], [...path, 'attributeMapping'], KEYS.attributeMapping, 'identitySource.attributeMapping');
  if (mapping !== undefined) input['AttributeMapping'] = renamed(mapping);
  const problems = validate(identitySources.PutIdentitySource.input, input);
  for (const problem of problems) c.fail(path, problem.message);
  return problems.length === 0 ? { input: input as IdentitySourceInput } : undefined;
}

/** The settings a plan compares: everything but secrets and confirmations, with sorted keys. */
function comparable(settings: Partial<IdentitySourceInput> & Partial<CurrentIdentitySource>): string {
  const { Oidc, Ldap, InstanceArn: _arn, ConfirmTypeChange: _confirm, HasClientSecret: _hasSecret, HasBindPassword: _hasPassword, CallbackUrl: _callback, UpdatedDate: _updated, ...rest } = settings;
  const oidc = Oidc === undefined ? undefined : (({ ClientSecret: _secret, ...kept }) => kept)(Oidc);
  const ldap = Ldap === undefined ? undefined : (({ BindPassword: _password, ...kept }) => kept)(Ldap);
  return stableJson({ ...rest, ...(oidc === undefined ? {} : { Oidc: oidc }), ...(ldap === undefined ? {} : { Ldap: ldap }) });
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export type IdentitySourcePlan =
  | { readonly action: 'unchanged'; readonly text: string }
  | { readonly action: 'update'; readonly text: string; readonly input: IdentitySourceInput }
  | { readonly action: 'refused'; readonly path: Path; readonly message: string };

/** What to do about the source; changing its type without confirmTypeChange is refused before any write. */
export function planIdentitySource(spec: IdentitySourceSpec, current: CurrentIdentitySource): IdentitySourcePlan {
  const want = spec.input;
  if (want.Type !== current.Type) {
    if (want.ConfirmTypeChange !== want.Type) {
      return { action: 'refused', path: ['identitySource', 'type'], message: `the server's identity source is ${current.Type}; changing it to ${want.Type} changes who can sign in: add confirmTypeChange: ${want.Type}` };
    }
    return { action: 'update', text: `change the identity source ${current.Type} → ${want.Type}`, input: want };
  }
  const secretMissing = (want.Oidc?.ClientSecret !== undefined && current.HasClientSecret !== true) || (want.Ldap?.BindPassword !== undefined && current.HasBindPassword !== true);
  if (comparable(want) === comparable(current) && !secretMissing) return { action: 'unchanged', text: `identity source ${want.Type} unchanged` };
  return { action: 'update', text: `update the ${want.Type} identity source's settings`, input: want };
}
