/** The one module of the CLI that reads the environment: where to connect and with what. */
import { readFile } from 'node:fs/promises';
import { UsageError } from './args.js';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4100';

// eslint-disable-next-line no-restricted-syntax -- the CLI's configuration lives in the environment
const env = process.env;

export function endpointUrl(flag: string | undefined): string {
  const url = flag ?? env['AIRLOCK_ENDPOINT_URL'] ?? DEFAULT_ENDPOINT;
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`The endpoint ${url} must be an http:// or https:// URL.`);
  return url;
}

/** --token-file, else AIRLOCK_TOKEN, else AIRLOCK_TOKEN_FILE; undefined when none is given. */
export async function token(tokenFile: string | undefined): Promise<string | undefined> {
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
