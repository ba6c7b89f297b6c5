/** Which agent version is the latest: this server's own (agent and server are released together). */
import { readFileSync } from 'node:fs';

export const SERVER_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function parts(version: string): number[] {
  return version.split(/[.+-]/).slice(0, 4).map((part) => (/^\d+$/.test(part) ? Number(part) : 0));
}

/** Compares dotted versions numerically: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const left = parts(a);
  const right = parts(b);
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

export function isLatestAgentVersion(version: string): boolean {
  return compareVersions(version, SERVER_VERSION) >= 0;
}
