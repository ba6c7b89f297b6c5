/**
 * LDAP and Active Directory (ldapts), a password source: InitiateAuth's user name and password
 * are checked by binding to the directory as that user, so the CLI and the web form work as
 * with the built-in directory. The search account finds the user's entry and groups:
 * - IN_CHAIN: Active Directory's LDAP_MATCHING_RULE_IN_CHAIN finds nested groups in one search;
 * - RECURSIVE: groups of groups, one search per level, on any LDAP server (bounded);
 * - NONE: the groups that list the user directly.
 * Connections are TLS (ldaps://, or StartTLS) except to a loopback address. Every value put in
 * a filter is escaped (RFC 4515); attribute names are checked when the settings are stored.
 */
import { ApiError } from '@airlock/protocol';
import { Client, escapeFilter, InvalidCredentialsError, type Entry } from 'ldapts';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { mapIdentity, type MappingDefaults } from './attribute-mapping.js';
import { isLoopbackHost, type IdentitySourceConfig, type SourceSettings } from './setting.js';
import type { ExternalIdentity, IdentitySource } from './source.js';

type LdapSettings = NonNullable<SourceSettings['Ldap']>;

/** AD's matching rule that walks group nesting on the server. */
export const LDAP_MATCHING_RULE_IN_CHAIN = '1.2.840.113556.1.4.1941';
const MAX_NESTING = 10;
const MAX_GROUPS = 1000;
const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9-]{0,127}|\d+(?:\.\d+)+)$/;

function settingsOf(config: IdentitySourceConfig): LdapSettings {
  const ldap = config.settings.Ldap;
  if (config.settings.Type !== 'LDAP' || ldap === undefined) throw new ApiError('ValidationException', 'The identity source is not LDAP.');
  return ldap;
}

/** The settings with their defaults filled in. */
function resolved(ldap: LdapSettings) {
  return {
    userNameAttribute: ldap.UserNameAttribute ?? 'uid',
    userObjectClass: ldap.UserObjectClass ?? 'person',
    groupSearchBase: ldap.GroupSearchBase ?? ldap.UserSearchBase.replace(/^[^,]*,/, ''),
    groupObjectClass: ldap.GroupObjectClass ?? 'groupOfNames',
    groupMemberAttribute: ldap.GroupMemberAttribute ?? 'member',
    groupNameAttribute: ldap.GroupNameAttribute ?? 'cn',
    nestedGroups: ldap.NestedGroups ?? 'RECURSIVE',
    timeoutMs: (ldap.TimeoutSeconds ?? 10) * 1000,
  };
}

function mappingDefaults(ldap: LdapSettings): MappingDefaults {
  return { UserName: resolved(ldap).userNameAttribute, Email: 'mail', DisplayName: 'displayName', GivenName: 'givenName', FamilyName: 'sn', Groups: 'memberOf' };
}

/** A value as it may appear in a filter (RFC 4515: `*`, `(`, `)`, `\\` and NUL escaped). */
const escaped = (value: string): string => escapeFilter`${value}`;

/** The filter for one entry: `(&(objectClass=…)(attribute=value))`. */
export function entryFilter(objectClass: string, attribute: string, value: string): string {
  return `(&(objectClass=${escaped(objectClass)})(${attribute}=${escaped(value)}))`;
}

/** Groups listing any of `members` directly; with IN_CHAIN, through any depth of nesting. */
export function groupFilter(objectClass: string, memberAttribute: string, members: readonly string[], inChain: boolean): string {
  const rule = inChain ? `:${LDAP_MATCHING_RULE_IN_CHAIN}:` : '';
  const any = members.map((dn) => `(${memberAttribute}${rule}=${escaped(dn)})`).join('');
  return `(&(objectClass=${escaped(objectClass)})${members.length === 1 ? any : `(|${any})`})`;
}

/** The certificate must name `host` (StartTLS upgrades a socket, so the host is given explicitly). */
function tlsOptions(ldap: LdapSettings, host: string): ConnectionOptions {
  const bare = host.replace(/^\[|\]$/g, '');
  return {
    host: bare,
    ...(isIP(bare) === 0 ? { servername: bare } : {}),
    minVersion: 'TLSv1.2',
    ...(ldap.CaCertificate === undefined ? {} : { ca: ldap.CaCertificate }),
  };
}

/** A connection, upgraded with StartTLS when asked; the caller unbinds it. */
async function connect(ldap: LdapSettings): Promise<Client> {
  const url = new URL(ldap.Url);
  const { timeoutMs } = resolved(ldap);
  // tlsOptions only for ldaps://: ldapts starts TLS at once when it has them, which breaks StartTLS.
  const tls = url.protocol === 'ldaps:' ? { tlsOptions: tlsOptions(ldap, url.hostname) } : {};
  const client = new Client({ url: ldap.Url, timeout: timeoutMs, connectTimeout: timeoutMs, ...tls });
  if (url.protocol === 'ldap:' && ldap.StartTls === true) await client.startTLS(tlsOptions(ldap, url.hostname));
  return client;
}

async function withConnection<T>(ldap: LdapSettings, work: (client: Client) => Promise<T>): Promise<T> {
  let client: Client | undefined;
  try {
    client = await connect(ldap);
    return await work(client);
  } finally {
    await client?.unbind().catch(() => undefined);
  }
}

/** Binds as the search account (or stays anonymous without one). */
async function bindSearcher(client: Client, config: IdentitySourceConfig): Promise<void> {
  const ldap = settingsOf(config);
  if (ldap.BindDn !== undefined) await client.bind(ldap.BindDn, config.secret('BindPassword') ?? '');
}

function unreachable(ldap: LdapSettings, error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const reason = error instanceof Error ? error.message : 'unknown error';
  return new ApiError('InternalServerException', `The LDAP directory at ${ldap.Url} could not be used (${reason}). Try again; if it persists, the administrator should check the identity source.`);
}

async function findUserEntry(client: Client, ldap: LdapSettings, userName: string, attributes: readonly string[]): Promise<Entry | undefined> {
  const { userObjectClass, userNameAttribute } = resolved(ldap);
  const { searchEntries } = await client.search(ldap.UserSearchBase, { scope: 'sub', filter: entryFilter(userObjectClass, userNameAttribute, userName), attributes: [...attributes], sizeLimit: 2 });
  // Two entries for one name: ambiguous, refused like a wrong password.
  return searchEntries.length === 1 ? searchEntries[0] : undefined;
}

/** The names of the user's groups, nested ones included as the settings say. */
async function groupsOf(client: Client, ldap: LdapSettings, userDn: string): Promise<string[]> {
  const settings = resolved(ldap);
  const search = async (members: readonly string[], inChain: boolean) =>
    (
      await client.search(settings.groupSearchBase, {
        scope: 'sub',
        filter: groupFilter(settings.groupObjectClass, settings.groupMemberAttribute, members, inChain),
        attributes: [settings.groupNameAttribute],
        sizeLimit: MAX_GROUPS,
      })
    ).searchEntries;
  const nameOf = (entry: Entry): string | undefined => {
    const value = entry[settings.groupNameAttribute];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? undefined : first.toString();
  };
  if (settings.nestedGroups !== 'RECURSIVE') {
    return (await search([userDn], settings.nestedGroups === 'IN_CHAIN')).map(nameOf).filter((name) => name !== undefined);
  }
  const found = new Map<string, string | undefined>();
  let frontier = [userDn];
  for (let depth = 0; depth < MAX_NESTING && frontier.length > 0 && found.size < MAX_GROUPS; depth += 1) {
    const entries = await search(frontier, false);
    frontier = [];
    for (const entry of entries) {
      const key = entry.dn.toLowerCase();
      if (found.has(key)) continue;
      found.set(key, nameOf(entry));
      frontier.push(entry.dn);
    }
  }
  return [...found.values()].filter((name) => name !== undefined);
}

function attributesOf(entry: Entry): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn') continue;
    attributes[name] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return attributes;
}

async function verifyPassword(config: IdentitySourceConfig, userName: string, password: string): Promise<ExternalIdentity | undefined> {
  const ldap = settingsOf(config);
  // An empty password is an "unauthenticated bind" (RFC 4513 5.1.2): many servers say yes to it.
  if (password === '') return undefined;
  const mapping = { ...mappingDefaults(ldap), ...config.settings.AttributeMapping };
  const wanted = [mapping.UserName, mapping.Email, mapping.DisplayName, mapping.GivenName, mapping.FamilyName, ...Object.values(config.settings.AttributeMapping?.PrincipalTags ?? {})];
  try {
    return await withConnection(ldap, async (client) => {
      await bindSearcher(client, config);
      const entry = await findUserEntry(client, ldap, userName, [...new Set(wanted)]);
      // An unknown name costs the same second connection and bind as a wrong password (to a DN
      // that cannot exist), so the time taken does not say which names the directory has.
      const dn = entry?.dn ?? `cn=airlock-no-such-user-${randomBytes(8).toString('hex')},${ldap.UserSearchBase}`;
      const proved = await withConnection(ldap, async (userClient) => {
        try {
          await userClient.bind(dn, password);
          return true;
        } catch (error) {
          if (error instanceof InvalidCredentialsError) return false;
          throw error;
        }
      });
      if (entry === undefined || !proved) return undefined;
      const groups = await groupsOf(client, ldap, entry.dn);
      return mapIdentity(config.settings, mappingDefaults(ldap), entry.dn, attributesOf(entry), groups, false);
    });
  } catch (error) {
    throw unreachable(ldap, error);
  }
}

/** Refuses settings that would send passwords in the clear, or name attributes a filter cannot hold. */
function checkSettings(ldap: LdapSettings): void {
  const url = new URL(ldap.Url);
  if (url.protocol !== 'ldap:' && url.protocol !== 'ldaps:') throw new ApiError('ValidationException', `Ldap.Url must be ldaps:// or ldap://, not ${url.protocol}//.`);
  if (url.protocol === 'ldap:' && ldap.StartTls !== true && !isLoopbackHost(url.hostname)) {
    throw new ApiError('ValidationException', `Ldap.Url ${ldap.Url} is plain LDAP to another host: passwords would cross the network in the clear. Use ldaps://, or set StartTls.`);
  }
  const settings = resolved(ldap);
  for (const [name, value] of Object.entries({
    UserNameAttribute: settings.userNameAttribute,
    UserObjectClass: settings.userObjectClass,
    GroupObjectClass: settings.groupObjectClass,
    GroupMemberAttribute: settings.groupMemberAttribute,
    GroupNameAttribute: settings.groupNameAttribute,
  })) {
    if (!ATTRIBUTE_NAME.test(value)) throw new ApiError('ValidationException', `Ldap.${name} must be an LDAP attribute name (letters, digits, hyphens) or an OID: ${value}.`);
  }
}

export const ldapSource: IdentitySource = {
  type: 'LDAP',
  sourceKey: (config) => `ldap:${settingsOf(config).Url}`,
  check: async (config) => {
    const ldap = settingsOf(config);
    checkSettings(ldap);
    try {
      await withConnection(ldap, async (client) => {
        await bindSearcher(client, config);
        await client.search(ldap.UserSearchBase, { scope: 'base', attributes: ['1.1'] });
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unknown error';
      throw new ApiError('ValidationException', `The LDAP directory at ${ldap.Url} could not be searched with these settings (${reason}): check Url, StartTls, CaCertificate, BindDn, BindPassword and UserSearchBase.`);
    }
  },
  verifyPassword: (config, userName, password) => verifyPassword(config, userName, password),
};
