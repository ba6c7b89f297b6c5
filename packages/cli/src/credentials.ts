/**
 * The tokens `airlock login` caches, one per endpoint, in CONFIG/credentials.json: the
 * directory 0700, the file 0600, replaced atomically so a crash never leaves half a file.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface Entry {
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

type Store = Record<string, Entry>;

const FILE = 'credentials.json';
const key = (endpoint: string): string => endpoint.replace(/\/+$/, '');

async function load(dir: string): Promise<Store> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, FILE), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Store) : {};
  } catch {
    return {};
  }
}

async function save(dir: string, store: Store): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const temporary = join(dir, `.${FILE}.${randomBytes(4).toString('hex')}`);
  await writeFile(temporary, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, join(dir, FILE));
}

export async function cachedToken(dir: string, endpoint: string, now: number): Promise<string | undefined> {
  const entry = (await load(dir))[key(endpoint)];
  return entry !== undefined && entry.expiresAt > now ? entry.accessToken : undefined;
}

export async function cacheToken(dir: string, endpoint: string, entry: Entry): Promise<string> {
  const store = await load(dir);
  store[key(endpoint)] = entry;
  await save(dir, store);
  return join(dir, FILE);
}

/**
 * Forgets the endpoint's portal token and the role sessions cached from it (`endpoint#account#role`,
 * profiles.ts), as `aws sso logout` deletes the role credentials it cached. Those sessions are not
 * revoked: like AWS's role credentials they last until they expire.
 */
export async function forgetToken(dir: string, endpoint: string): Promise<void> {
  const store = await load(dir);
  const kept = Object.fromEntries(Object.entries(store).filter(([name]) => key(name.split('#')[0] ?? '') !== key(endpoint)));
  if (Object.keys(kept).length === Object.keys(store).length) return;
  await save(dir, kept);
}
