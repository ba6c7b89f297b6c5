/**
 * Password hashing, verification and the password policy.
 *
 * Hashes are argon2id PHC strings with the parameters of the OWASP Password Storage Cheat Sheet.
 * The policy follows NIST SP 800-63B: length limits and a blocklist, no character-class rules.
 * Passwords are NFKC-normalised before hashing and checking (NIST SP 800-63B §5.1.1.2), so the
 * same text typed on different keyboards or platforms gives the same password.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import { COMMON_PASSWORDS } from './common-passwords.js';

export const MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase, short enough that nobody sends megabytes to the hasher. */
export const MAX_PASSWORD_LENGTH = 128;

/** OWASP's recommended argon2id parameters: 19 MiB of memory, 2 passes, 1 lane. */
const PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface PasswordVerification {
  readonly ok: boolean;
  /**
   * The stored hash was made with other parameters or another algorithm: store
   * `hashPassword(password)` in its place. Only ever true together with `ok`, since only then does
   * the caller hold the right password.
   */
  readonly needsRehash: boolean;
}

export interface PasswordContext {
  readonly userName?: string | undefined;
  readonly email?: string | undefined;
}

const normalize = (text: string): string => text.normalize('NFKC');

/** NIST SP 800-63B counts each Unicode code point as one character, so an emoji is not two. */
const characterCount = (text: string): number => Array.from(text).length;

/**
 * Hashes computed at once at most: half the CPUs, at least one. Each takes about 40 ms of a core;
 * left to libuv's pool (four threads), a burst of sign-ins ran four a node and starved the event
 * loop of CPU, so that every other call waited seconds behind them (bench:cluster: the nodes'
 * event loops ready but waiting for a CPU 53% of the time, /healthz p50 20 s; one at a time on
 * two CPUs: /healthz p50 0.15 s at the same sign-in rate, docs/performance.md). The rest wait
 * their turn, in order.
 */
export const MAX_CONCURRENT_HASHES = Math.max(1, Math.floor(availableParallelism() / 2));
let hashing = 0;
const turns: (() => void)[] = [];

/**
 * Hashes that may wait their turn: a few seconds' work per slot. A sign-in beyond that is
 * answered at once (ThrottlingException, see sign-in.ts) rather than queued for a minute, so a
 * flood of sign-ins cannot make everyone's wait unbounded.
 */
export const MAX_WAITING_HASHES = 64 * MAX_CONCURRENT_HASHES;

/** So many hashes wait already that another would wait more than a few seconds. */
export function hashersBusy(): boolean {
  return turns.length >= MAX_WAITING_HASHES;
}

/** Hashes being computed and hashes waiting their turn, now. */
export function hashQueue(): { readonly running: number; readonly waiting: number } {
  return { running: hashing, waiting: turns.length };
}

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (hashing < MAX_CONCURRENT_HASHES) hashing++;
  else await new Promise<void>((resolve) => turns.push(resolve));
  try {
    return await work();
  } finally {
    // The slot goes straight to the next in line, or is given back.
    const next = turns.shift();
    if (next === undefined) hashing--;
    else next();
  }
}

/** Hashes a password into a PHC string: `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. */
export async function hashPassword(password: string): Promise<string> {
  const encoded = await inTurn(() => argon2.hash(normalize(password), { ...PARAMS, type: argon2.argon2id }));
  // argon2 0.45 writes the parameters as m,p,t, but the argon2 PHC encoding requires m,t,p and the
  // reference implementation and libsodium refuse anything else (ranisalt/node-argon2#559).
  return encoded.replace(/\$m=(\d+),p=(\d+),t=(\d+)\$/, (_match: string, m: string, p: string, t: string) => `$m=${m},t=${t},p=${p}$`);
}

/** Checks a password against a stored hash; a malformed stored hash fails the check, never throws. */
export async function verifyPassword(hash: string, password: string): Promise<PasswordVerification> {
  try {
    const ok = await inTurn(() => argon2.verify(hash, normalize(password)));
    return { ok, needsRehash: ok && (!hash.startsWith('$argon2id$') || argon2.needsRehash(hash, PARAMS)) };
  } catch {
    // A corrupt row must not answer faster than a wrong password does.
    await verifyAgainstDummy(password);
    return { ok: false, needsRehash: false };
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time of a real verification and fails. Sign-in calls it when the user is unknown or
 * has no password yet, so the response time does not reveal which user names exist. The dummy
 * hash (of a random password nobody knows) is made on first use; call this once at startup to
 * keep that first-use cost out of sign-in.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  dummyHash ??= hashPassword(randomBytes(32).toString('base64url')).catch((error: unknown) => {
    // Let the next call try again rather than fail every unknown-user sign-in until restart.
    dummyHash = undefined;
    throw error;
  });
  const dummy = await dummyHash;
  await inTurn(() => argon2.verify(dummy, normalize(password)));
  return false;
}

/** The lower-cased, normalised form of a personal detail, when it is long enough to matter. */
function personalDetail(value: string | undefined): string | undefined {
  const detail = value === undefined ? '' : normalize(value).trim().toLowerCase();
  return characterCount(detail) >= 3 ? detail : undefined;
}

function emailLocalPart(email: string | undefined): string | undefined {
  if (email === undefined) return undefined;
  const at = email.lastIndexOf('@');
  return at === -1 ? email : email.slice(0, at);
}

/**
 * The ways a new password falls short, each a sentence to show the person choosing it; empty when
 * the password is acceptable.
 */
export function checkPasswordPolicy(password: string, context: PasswordContext): string[] {
  const problems: string[] = [];
  const normalized = normalize(password);
  const length = characterCount(normalized);
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push(
      `Use at least ${MIN_PASSWORD_LENGTH} characters. A few unrelated words make a long password that is easy to remember.`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push(`Use at most ${MAX_PASSWORD_LENGTH} characters.`);
  }
  const lower = normalized.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) {
    problems.push(
      'This is one of the most common passwords, which attackers try first. Choose one that nobody else would, such as a few unrelated words.',
    );
  }
  const userName = personalDetail(context.userName);
  if (userName !== undefined && lower.includes(userName)) {
    problems.push('Leave your user name out of your password: it is the first thing an attacker would try.');
  }
  const localPart = personalDetail(emailLocalPart(context.email));
  if (localPart !== undefined && lower.includes(localPart)) {
    problems.push('Leave your email address (the part before the @) out of your password: it is easy to guess.');
  }
  return problems;
}
