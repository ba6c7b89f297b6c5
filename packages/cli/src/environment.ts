/** The one module of the CLI that reads the environment: where to connect and with what. */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './args.js';
import { cachedToken } from './credentials.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4100';

// eslint-disable-next-line no-restricted-syntax -- the CLI's configuration lives in the environment
const env = process.env;

export function endpointUrl(flag: string | undefined): string {
  const url = flag ?? env['AIRLOCK_ENDPOINT_URL'] ?? DEFAULT_ENDPOINT;
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`The endpoint ${url} must be an http:// or https:// URL.`);
  return url;
}

/** A variable the setup file names for a secret (`clientSecretEnv`), so secrets stay out of files. */
export function environmentValue(name: string): string | undefined {
  return env[name];
}

/** Where `airlock login` keeps its tokens: AIRLOCK_CONFIG_DIR, else ~/.airlock. */
export function configDir(): string {
  return env['AIRLOCK_CONFIG_DIR'] ?? join(homedir(), '.airlock');
}

/** The profile to use: --profile, else AIRLOCK_PROFILE. */
export function profileName(flag: string | undefined): string | undefined {
  return flag ?? env['AIRLOCK_PROFILE'];
}

/** The portal token `airlock login` cached for this endpoint, if it is still good. */
export function loginToken(endpoint: string): Promise<string | undefined> {
  return cachedToken(configDir(), endpoint, Date.now());
}

/** --token-file, else AIRLOCK_TOKEN, else AIRLOCK_TOKEN_FILE; undefined when none is given. */
export async function explicitToken(tokenFile: string | undefined): Promise<string | undefined> {
  const file = tokenFile ?? (env['AIRLOCK_TOKEN'] === undefined ? env['AIRLOCK_TOKEN_FILE'] : undefined);
  if (file === undefined) return env['AIRLOCK_TOKEN'];
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    throw new UsageError(`Cannot read the token file ${file}.`);
  }
}

/** The environment for a child program, with `binDir` first on its PATH. */
export function childEnvironment(binDir: string): NodeJS.ProcessEnv {
  return { ...env, PATH: `${binDir}:${env['PATH'] ?? ''}` };
}
