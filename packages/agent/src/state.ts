/**
 * The state directory (default /var/lib/airlock-agent, mode 0700):
 *
 *   registration.json  {endpointUrl, instanceId, registeredAt, caFingerprints?}   written last
 *   private-key.pem    the Ed25519 private key, PKCS#8 PEM, 0600; never leaves the host
 *   ca.pem             the pinned CA (https endpoints registered with --ca-file)
 *   deregistered       present once the server said the instance was deregistered
 *
 * Every file is written atomically (temporary file, fsync, rename, fsync of the directory), so a
 * crash never leaves half a key. registration.json is written last: it marks a complete registration.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface Registration {
  readonly endpointUrl: string;
  readonly instanceId: string;
  readonly registeredAt: string;
  /** SHA-256 fingerprints of the pinned CA certificates, when a CA was pinned. */
  readonly caFingerprints?: readonly string[];
}

export interface AgentState {
  readonly registration: Registration;
  readonly privateKeyPem: string;
  /** The pinned CA bundle; undefined when none was pinned. */
  readonly caPem: string | undefined;
}

export class StateError extends Error {
  override readonly name = 'StateError';
}

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export function statePaths(dir: string): { registration: string; privateKey: string; ca: string; deregistered: string } {
  return {
    registration: join(dir, 'registration.json'),
    privateKey: join(dir, 'private-key.pem'),
    ca: join(dir, 'ca.pem'),
    deregistered: join(dir, 'deregistered'),
  };
}

/** Creates the directory (and parents) if needed, and makes it 0700 even when it existed. */
export async function prepareStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
}

/** Writes beside the target, fsyncs, renames over it, then fsyncs the directory. */
export async function writeFileAtomically(path: string, data: string, mode: number = FILE_MODE): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      // The umask may have taken bits away; never added any, but be exact.
      await handle.chmod(mode);
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the file is written; only its durability across a power loss is in question.
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}

async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The registration in `dir`, or undefined when there is none. A damaged file is an error. */
export async function readRegistration(dir: string): Promise<Registration | undefined> {
  const path = statePaths(dir).registration;
  const text = await readIfExists(path);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new StateError(`${path} is not JSON; register again with --force.`);
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { endpointUrl, instanceId, registeredAt, caFingerprints } = record;
  if (typeof endpointUrl !== 'string' || typeof instanceId !== 'string' || typeof registeredAt !== 'string') {
    throw new StateError(`${path} lacks endpointUrl, instanceId or registeredAt; register again with --force.`);
  }
  const fingerprints = Array.isArray(caFingerprints) ? caFingerprints.filter((item): item is string => typeof item === 'string') : undefined;
  return { endpointUrl, instanceId, registeredAt, ...(fingerprints === undefined ? {} : { caFingerprints: fingerprints }) };
}

/** Everything `run` needs, or a StateError that says what to do. */
export async function loadState(dir: string): Promise<AgentState> {
  const paths = statePaths(dir);
  const registration = await readRegistration(dir);
  if (registration === undefined) throw new StateError(`This agent is not registered: ${paths.registration} does not exist. Run airlock-agent register first.`);
  const privateKeyPem = await readIfExists(paths.privateKey);
  if (privateKeyPem === undefined) throw new StateError(`${paths.privateKey} is missing; register again with --force.`);
  const caPem = await readIfExists(paths.ca);
  if (registration.caFingerprints !== undefined && caPem === undefined) {
    throw new StateError(`${paths.ca} (the pinned CA) is missing; restore it or register again with --force.`);
  }
  return { registration, privateKeyPem, caPem };
}

/** The permission bits of the private key file, for a warning when others can read it. */
export async function privateKeyMode(dir: string): Promise<number> {
  return (await stat(statePaths(dir).privateKey)).mode & 0o777;
}

/** Saves a new registration: the key, the pinned CA (or its absence), then registration.json. */
export async function saveRegistration(dir: string, registration: Registration, privateKeyPem: string, caPem: string | undefined): Promise<void> {
  const paths = statePaths(dir);
  await prepareStateDir(dir);
  await writeFileAtomically(paths.privateKey, privateKeyPem);
  if (caPem === undefined) await removeIfExists(paths.ca);
  else await writeFileAtomically(paths.ca, caPem);
  await removeIfExists(paths.deregistered);
  await writeFileAtomically(paths.registration, `${JSON.stringify(registration, null, 2)}\n`);
}

/** When the server deregistered this instance, or undefined. */
export async function deregisteredAt(dir: string): Promise<string | undefined> {
  return (await readIfExists(statePaths(dir).deregistered))?.trim();
}

/** Remembers that the server deregistered this instance, so a restarted agent does not dial again. */
export async function markDeregistered(dir: string, at: Date): Promise<void> {
  await writeFileAtomically(statePaths(dir).deregistered, `${at.toISOString()}\n`);
}
