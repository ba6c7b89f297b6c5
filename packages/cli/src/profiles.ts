/**
 * Profiles, as `aws configure sso` keeps them: a name for an account and a permission set (and
 * optionally an endpoint), in CONFIG/config.json. With a profile, commands that need a role
 * session get one from the portal token `airlock login` cached, and cache it until it expires.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockClient } from '@airlock/client';
import { roleSessions } from '@airlock/protocol';
import { UsageError } from './args.js';
import { cachedToken, cacheToken } from './credentials.js';
import { configDir } from './environment.js';

export interface Profile {
  readonly accountId: string;
  readonly roleName: string;
  readonly endpointUrl?: string;
}

interface ConfigFile {
  profiles?: Record<string, Profile>;
}

const FILE = 'config.json';

async function readConfig(): Promise<ConfigFile> {
  try {
    return JSON.parse(await readFile(join(configDir(), FILE), 'utf8')) as ConfigFile;
  } catch {
    return {};
  }
}

export async function readProfile(name: string): Promise<Profile> {
  const profile = (await readConfig()).profiles?.[name];
  if (profile === undefined) throw new UsageError(`There is no profile ${name}; make one with airlock configure sso --profile ${name} --account-id … --role-name ….`);
  return profile;
}

export async function writeProfile(name: string, profile: Profile): Promise<string> {
  const config = await readConfig();
  config.profiles = { ...config.profiles, [name]: profile };
  await mkdir(configDir(), { recursive: true, mode: 0o700 });
  const path = join(configDir(), FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
  return path;
}

/** The account and permission set: the profile's, or the user's only one. */
async function chooseRole(portal: AirlockClient, profile: Profile | undefined): Promise<{ accountId: string; roleName: string }> {
  if (profile !== undefined) return profile;
  const choices: { accountId: string; roleName: string }[] = [];
  for (const account of (await portal.call(roleSessions.ListAccounts, {})).AccountList) {
    for (const role of (await portal.call(roleSessions.ListAccountRoles, { AccountId: account.AccountId })).RoleList) {
      choices.push({ accountId: account.AccountId, roleName: role.RoleName });
    }
  }
  const [only] = choices;
  if (choices.length === 1 && only !== undefined) return only;
  if (choices.length === 0) throw new UsageError('You have no permission set in any account: ask an administrator for an assignment.');
  const listed = choices.map((choice) => `${choice.accountId}/${choice.roleName}`).join(', ');
  throw new UsageError(`You have several permission sets (${listed}); choose one: airlock configure sso --profile NAME --account-id … --role-name …, then --profile NAME.`);
}

/** A role-session token for the endpoint, from the cache or made now from the portal token. */
export async function roleToken(endpointUrl: string, portalToken: string, profile: Profile | undefined, userAgent: string): Promise<string> {
  const portal = new AirlockClient({ endpointUrl, token: portalToken, userAgent });
  const { accountId, roleName } = await chooseRole(portal, profile);
  const cacheKey = `${endpointUrl}#${accountId}#${roleName}`;
  const cached = await cachedToken(configDir(), cacheKey, Date.now() + 60_000);
  if (cached !== undefined) return cached;
  const { RoleCredentials } = await portal.call(roleSessions.GetRoleCredentials, { AccountId: accountId, RoleName: roleName });
  await cacheToken(configDir(), cacheKey, { accessToken: RoleCredentials.AccessToken, expiresAt: RoleCredentials.Expiration });
  return RoleCredentials.AccessToken;
}
