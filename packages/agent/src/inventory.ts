/** What the agent tells the server about its host: sent in hello and, now and then, with a heartbeat. */
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import type { control } from '@airlock/protocol';

export type Inventory = control.Inventory;

/** The parts of node:os the inventory reads, so tests can give a host of their own. */
export interface SystemInfo {
  hostname(): string;
  release(): string;
  type(): string;
  version(): string;
  cpus(): readonly unknown[];
  totalmem(): number;
  networkInterfaces(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

export interface InventoryOptions {
  readonly agentVersion: string;
  /** os-release files to try in order (see os-release(5)). */
  readonly osReleasePaths?: readonly string[];
  readonly system?: SystemInfo;
}

const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'];
const MAX_FIELD = 256;
const MAX_ADDRESSES = 64;

export async function collectInventory(options: InventoryOptions): Promise<Inventory> {
  const system = options.system ?? os;
  const release = await readOsRelease(options.osReleasePaths ?? OS_RELEASE_PATHS);
  const platformName = release.get('NAME') ?? safe(() => system.type());
  const platformVersion = release.get('VERSION_ID') ?? release.get('VERSION') ?? release.get('BUILD_ID') ?? safe(() => system.version());
  return {
    platformName: field(platformName),
    platformVersion: field(platformVersion),
    kernel: field(safe(() => system.release())),
    hostname: field(safe(() => system.hostname())),
    ipAddresses: addresses(system),
    cpus: safeNumber(() => system.cpus().length),
    memoryBytes: safeNumber(() => system.totalmem()),
    agentVersion: field(options.agentVersion),
  };
}

/** KEY=value lines of os-release(5), with shell-style quotes and escapes. */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match === null) continue;
    const [, key = '', rawValue = ''] = match;
    let value = rawValue;
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\([$"`\\])/g, '$1');
    }
    if (value !== '') values.set(key, value);
  }
  return values;
}

async function readOsRelease(paths: readonly string[]): Promise<Map<string, string>> {
  for (const path of paths) {
    try {
      return parseOsRelease(await readFile(path, 'utf8'));
    } catch {
      // Not there (macOS, a minimal container): try the next, then fall back to node:os.
    }
  }
  return new Map();
}

/** Non-internal IPv4 and IPv6 addresses, each once, at most 64. */
function addresses(system: SystemInfo): string[] {
  const found = new Set<string>();
  let interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  try {
    interfaces = system.networkInterfaces();
  } catch {
    return [];
  }
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) {
      if (!entry.internal && entry.address.length <= 64) found.add(entry.address);
    }
  }
  return [...found].slice(0, MAX_ADDRESSES);
}

function field(value: string): string {
  const trimmed = value.replace(/\s+/g, ' ').trim();
  return trimmed === '' ? 'unknown' : trimmed.slice(0, MAX_FIELD);
}

function safe(read: () => string): string {
  try {
    return read();
  } catch {
    return 'unknown';
  }
}

function safeNumber(read: () => number): number {
  try {
    const value = read();
    return Number.isFinite(value) && value >= 0 ? Math.floor(value) : 0;
  } catch {
    return 0;
  }
}
