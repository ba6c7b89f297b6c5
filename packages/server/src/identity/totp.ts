// Time-based one-time passwords for authenticator apps: HOTP (RFC 4226), TOTP (RFC 6238),
// base32 secrets (RFC 4648) and the otpauth:// Key Uri Format that apps scan as a QR code.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import QRCode from 'qrcode';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** Seconds per time step. */
  step?: number;
  digits?: number;
  algorithm?: TotpAlgorithm;
}

export interface VerifyTotpOptions extends TotpOptions {
  /** How many steps either side of the current one are accepted, to tolerate clock drift. */
  window?: number;
  /** The step of the last code this user had accepted; that code and older ones are refused. */
  lastUsedStep?: number;
}

export type TotpVerification = { ok: true; step: number } | { ok: false; reason: 'malformed' | 'mismatch' | 'replayed' };

// The values authenticator apps assume; the otpauth URI states them explicitly anyway.
const DEFAULT_STEP = 30;
const DEFAULT_DIGITS = 6;
const DEFAULT_ALGORITHM: TotpAlgorithm = 'sha1';
const DEFAULT_WINDOW = 1;

// 160 bits: the HMAC-SHA1 output size, which RFC 4226 §4 recommends as the shared secret length.
const SECRET_BYTES = 20;

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const MAX_COUNTER = 2n ** 64n - 1n;

export function generateTotpSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES));
}

/** RFC 4648 base32, upper case and without padding, as authenticator apps expect. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += BASE32_ALPHABET.charAt((buffer >> bits) & 31);
    }
  }
  if (bits > 0) out += BASE32_ALPHABET.charAt((buffer << (5 - bits)) & 31);
  return out;
}

/**
 * Decodes base32 as people type it: any case, with spaces, with or without trailing padding.
 * Returns undefined for characters outside the alphabet and for lengths no encoder produces.
 */
export function base32Decode(text: string): Uint8Array | undefined {
  const clean = text.replace(/\s+/g, '').replace(/=+$/, '').toUpperCase();
  // 1, 3 or 6 characters past a multiple of 8 cannot end a whole number of bytes.
  if ([1, 3, 6].includes(clean.length % 8)) return undefined;
  const out = new Uint8Array(Math.floor((clean.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (const char of clean) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) return undefined;
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  return out;
}

/** RFC 4226 HOTP: HMAC over the 8-byte big-endian counter, dynamically truncated to `digits` decimal digits. */
export function hotp(secret: Uint8Array, counter: number | bigint, digits = DEFAULT_DIGITS, algorithm: TotpAlgorithm = DEFAULT_ALGORITHM): string {
  if (secret.length === 0) throw new RangeError('HOTP secret must not be empty');
  // Truncation yields 31 bits, so more than 10 digits would only add leading zeros; RFC 4226 requires at least 6.
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new RangeError(`HOTP digits must be an integer from 6 to 10, got ${digits}`);
  if (typeof counter === 'number' && !Number.isSafeInteger(counter)) throw new RangeError(`HOTP counter must be a safe integer, got ${counter}`);
  const big = BigInt(counter);
  if (big < 0n || big > MAX_COUNTER) throw new RangeError('HOTP counter must fit in an unsigned 64-bit integer');

  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(big);
  const mac = createHmac(algorithm, secret).update(message).digest();
  // The low nibble of the last byte picks where the 31-bit value is read (RFC 4226 §5.3).
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** digits).toString().padStart(digits, '0');
}

/** RFC 6238 TOTP: HOTP with the number of whole steps since the Unix epoch as the counter. */
export function totpCode(secret: Uint8Array, unixMillis: number, options: TotpOptions = {}): string {
  const step = options.step ?? DEFAULT_STEP;
  return hotp(secret, timeStep(unixMillis, step), options.digits ?? DEFAULT_DIGITS, options.algorithm ?? DEFAULT_ALGORITHM);
}

/**
 * Checks a code typed by a user. On success the caller must store the returned step and pass it
 * back as `lastUsedStep`, so each code is accepted once and no older code is accepted after it.
 */
export function verifyTotp(secret: Uint8Array, code: string, unixMillis: number, options: VerifyTotpOptions = {}): TotpVerification {
  const step = options.step ?? DEFAULT_STEP;
  const digits = options.digits ?? DEFAULT_DIGITS;
  const algorithm = options.algorithm ?? DEFAULT_ALGORITHM;
  const window = options.window ?? DEFAULT_WINDOW;
  if (!Number.isInteger(window) || window < 0) throw new RangeError(`TOTP window must be a non-negative integer, got ${window}`);
  if (code.length !== digits || !/^[0-9]+$/.test(code)) return { ok: false, reason: 'malformed' };

  const given = Buffer.from(code, 'ascii');
  const current = timeStep(unixMillis, step);
  const lastUsed = options.lastUsedStep ?? -1;
  let accepted: number | undefined;
  let replayed = false;
  // Every candidate is computed and compared, with no early exit, so timing does not reveal which step matched.
  for (let candidate = current - window; candidate <= current + window; candidate++) {
    if (candidate < 0) continue;
    const matches = timingSafeEqual(Buffer.from(hotp(secret, candidate, digits, algorithm), 'ascii'), given);
    if (!matches) continue;
    // If a code happens to match several steps, the earliest unused one advances lastUsedStep least.
    if (candidate <= lastUsed) replayed = true;
    else accepted ??= candidate;
  }
  if (accepted !== undefined) return { ok: true, step: accepted };
  return { ok: false, reason: replayed ? 'replayed' : 'mismatch' };
}

export interface OtpauthUriInput {
  issuer: string;
  accountName: string;
  secret: Uint8Array;
}

/** The Key Uri Format (otpauth://totp/...) that Google Authenticator and compatible apps read. */
export function otpauthUri({ issuer, accountName, secret }: OtpauthUriInput): string {
  // The colon separates issuer from account; the Key Uri Format forbids it inside either, even as %3A.
  if (issuer.includes(':') || accountName.includes(':')) throw new RangeError('otpauth issuer and account name must not contain a colon');
  // encodeURIComponent, not URLSearchParams: apps read '%20' as a space but some show '+' literally.
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  const params: [string, string][] = [
    ['secret', base32Encode(secret)],
    ['issuer', issuer],
    ['algorithm', DEFAULT_ALGORITHM.toUpperCase()],
    ['digits', String(DEFAULT_DIGITS)],
    ['period', String(DEFAULT_STEP)],
  ];
  const query = params.map(([key, value]) => `${key}=${encodeURIComponent(value)}`).join('&');
  return `otpauth://totp/${label}?${query}`;
}

/** Renders text (an otpauth URI) as an SVG QR code for the enrolment page. */
export function qrCodeSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M' });
}

function timeStep(unixMillis: number, step: number): number {
  if (!Number.isFinite(unixMillis) || unixMillis < 0) throw new RangeError(`TOTP time must be a non-negative number of milliseconds, got ${unixMillis}`);
  if (!Number.isInteger(step) || step <= 0) throw new RangeError(`TOTP step must be a positive whole number of seconds, got ${step}`);
  return Math.floor(unixMillis / (step * 1000));
}
