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

/** Where `airlock login` keeps its tokens: AIRLOCK_CONFIG_DIR, else ~/.airlock. */
export function configDir(): string {
  return env['AIRLOCK_CONFIG_DIR'] ?? join(homedir(), '.airlock');
}

/**
 * --token-file, else AIRLOCK_TOKEN, else AIRLOCK_TOKEN_FILE, else the token `airlock login`
 * cached for this endpoint; undefined when there is none.
 */
export async function token(tokenFile: string | undefined, endpoint: string): Promise<string | undefined> {
  const file = tokenFile ?? (env['AIRLOCK_TOKEN'] === undefined ? env['AIRLOCK_TOKEN_FILE'] : undefined);
  if (file === undefined) return env['AIRLOCK_TOKEN'] ?? (await cachedToken(configDir(), endpoint, Date.now()));
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
