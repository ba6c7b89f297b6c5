/** An authenticator app for tests: GNU oathtool (an independent TOTP implementation) at a given moment. */
import { execFileSync } from 'node:child_process';

/** The 6-digit TOTP code for a base32 secret at `millis` (use the server's clock). */
export function authenticatorCode(secret: string, millis: number): string {
  const iso = new Date(millis).toISOString();
  const when = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return execFileSync('/usr/bin/oathtool', ['--totp', '-b', secret.replace(/\s+/g, ''), '--now', when], { env: { TZ: 'UTC' }, encoding: 'utf8', timeout: 5_000 }).trim();
}
