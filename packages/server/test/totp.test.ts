import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import {
  base32Decode,
  base32Encode,
  generateTotpSecret,
  hotp,
  otpauthUri,
  qrCodeSvg,
  totpCode,
  verifyTotp,
  type TotpAlgorithm,
} from '@airlock/server/identity/totp';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

// RFC 6238 Appendix B: one seed per algorithm, each the ASCII digits repeated to the hash's output size.
const RFC6238_SEEDS: Record<TotpAlgorithm, Uint8Array> = {
  sha1: ascii('12345678901234567890'),
  sha256: ascii('12345678901234567890123456789012'),
  sha512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
};

const RFC6238_VECTORS: [seconds: number, sha1: string, sha256: string, sha512: string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

test('totpCode matches the RFC 6238 Appendix B test vectors', () => {
  for (const [seconds, sha1, sha256, sha512] of RFC6238_VECTORS) {
    const expected: Record<TotpAlgorithm, string> = { sha1, sha256, sha512 };
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      const code = totpCode(RFC6238_SEEDS[algorithm], seconds * 1000, { digits: 8, algorithm });
      assert.equal(code, expected[algorithm], `${algorithm} at T=${seconds}`);
    }
  }
});

test('hotp matches the RFC 4226 Appendix D values for counters 0 to 9', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  const secret = ascii('12345678901234567890');
  expected.forEach((code, counter) => {
    assert.equal(hotp(secret, counter), code, `counter ${counter}`);
    assert.equal(hotp(secret, BigInt(counter)), code, `bigint counter ${counter}`);
  });
});

test('hotp rejects unusable secrets, counters and digit counts', () => {
  const secret = ascii('12345678901234567890');
  assert.throws(() => hotp(new Uint8Array(), 0), RangeError);
  assert.throws(() => hotp(secret, -1), RangeError);
  assert.throws(() => hotp(secret, 1.5), RangeError);
  assert.throws(() => hotp(secret, 2n ** 64n), RangeError);
  assert.throws(() => hotp(secret, 0, 5), RangeError);
  assert.throws(() => hotp(secret, 0, 11), RangeError);
  assert.equal(hotp(secret, 2n ** 64n - 1n).length, 6);
});

test('totpCode uses 30-second steps, 6 digits and SHA1 by default', () => {
  const secret = RFC6238_SEEDS.sha1;
  assert.equal(totpCode(secret, 59_000), '287082');
  assert.equal(totpCode(secret, 59_999), totpCode(secret, 30_000));
  assert.notEqual(totpCode(secret, 60_000), totpCode(secret, 59_999));
  assert.equal(totpCode(secret, 59_000, { step: 60 }), hotp(secret, 0));
  assert.throws(() => totpCode(secret, -1), RangeError);
  assert.throws(() => totpCode(secret, 0, { step: 0 }), RangeError);
});

test('base32 encodes the RFC 4648 test vectors without padding', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  for (const [plain, encoded] of vectors) {
    assert.equal(base32Encode(ascii(plain)), encoded);
    assert.deepEqual(base32Decode(encoded), ascii(plain));
  }
});

test('base32 round-trips random bytes of every length up to 40', () => {
  for (let length = 0; length <= 40; length++) {
    const data = new Uint8Array(randomBytes(length));
    const encoded = base32Encode(data);
    assert.match(encoded, /^[A-Z2-7]*$/);
    assert.equal(encoded.length, Math.ceil((length * 8) / 5));
    assert.deepEqual(base32Decode(encoded), data);
  }
});

test('base32Decode tolerates case, spaces and padding', () => {
  const foobar = ascii('foobar');
  assert.deepEqual(base32Decode('mzxw6ytboi'), foobar);
  assert.deepEqual(base32Decode('MZXW 6YTB OI'), foobar);
  assert.deepEqual(base32Decode('MZXW6YTBOI======'), foobar);
  assert.deepEqual(base32Decode(' mzxw 6ytb oi== '), foobar);
});

test('base32Decode returns undefined for invalid input', () => {
  for (const text of ['MZXW1', 'MZXW8', 'MZXW6!', 'MZ-XW', 'MZ=XW6', 'MZXÉ', 'M', 'MZX', 'MZXW6Y']) {
    assert.equal(base32Decode(text), undefined, JSON.stringify(text));
  }
});

test('generateTotpSecret returns 20 random bytes', () => {
  const a = generateTotpSecret();
  const b = generateTotpSecret();
  assert.ok(a instanceof Uint8Array);
  assert.equal(a.length, 20);
  assert.notDeepEqual(a, b);
});

// Conformance with an independent implementation: GNU oathtool (Debian package oathtool).
const OATHTOOL = '/usr/bin/oathtool';

function oathtoolTime(seconds: number): string {
  // oathtool's --now takes GNU date syntax; "YYYY-MM-DD HH:MM:SS UTC" is unambiguous.
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function oathtool(args: string[]): string {
  return execFileSync(OATHTOOL, args, { encoding: 'utf8', env: { TZ: 'UTC' } }).trim();
}

// Step boundaries (…29 s, …30 s), the RFC 6238 times, a recent time and one past 2038.
const CONFORMANCE_SECONDS = [0, 29, 30, 59, 1111111109, 1111111110, 1234567890, 1_700_000_000, 1_767_225_599, 2_000_000_000, 4_102_444_800];

test('totpCode and verifyTotp agree with oathtool', () => {
  assert.ok(existsSync(OATHTOOL), `${OATHTOOL} is required: apt-get install oathtool`);
  const modes: { flag: string; algorithm: TotpAlgorithm; digits: number }[] = [
    { flag: '--totp', algorithm: 'sha1', digits: 6 },
    { flag: '--totp=sha256', algorithm: 'sha256', digits: 6 },
    { flag: '--totp=sha512', algorithm: 'sha512', digits: 8 },
  ];
  let checked = 0;
  for (let i = 0; i < 4; i++) {
    const secret = generateTotpSecret();
    const key = base32Encode(secret);
    for (const { flag, algorithm, digits } of modes) {
      for (const seconds of CONFORMANCE_SECONDS) {
        const expected = oathtool([flag, '-b', '-d', String(digits), '--now', oathtoolTime(seconds), key]);
        // The milliseconds within the second must not change the step.
        const millis = seconds * 1000 + 999;
        assert.equal(totpCode(secret, millis, { digits, algorithm }), expected, `${flag} ${key} at ${seconds}`);
        const result = verifyTotp(secret, expected, millis, { digits, algorithm });
        assert.deepEqual(result, { ok: true, step: Math.floor(seconds / 30) });
        checked++;
      }
    }
  }
  assert.equal(checked, 4 * 3 * CONFORMANCE_SECONDS.length);
});

test('oathtool accepts codes from totpCode', () => {
  const secret = generateTotpSecret();
  const key = base32Encode(secret);
  for (const seconds of [1111111109, 1_700_000_000]) {
    const code = totpCode(secret, seconds * 1000);
    // Validation mode exits non-zero (so execFileSync throws) when the code is not accepted.
    assert.doesNotThrow(() => oathtool(['--totp', '-b', '--now', oathtoolTime(seconds), key, code]));
  }
});

// A fixed secret and time for verifyTotp, so the codes of neighbouring steps are known to differ.
const SECRET = RFC6238_SEEDS.sha1;
const NOW = 1_700_000_012_345;
const STEP = Math.floor(NOW / 30_000);
const codeAt = (step: number): string => hotp(SECRET, step);

test('verifyTotp accepts the current code and one step either side', () => {
  assert.equal(new Set([-2, -1, 0, 1, 2].map((d) => codeAt(STEP + d))).size, 5);
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP), NOW), { ok: true, step: STEP });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP - 1), NOW), { ok: true, step: STEP - 1 });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP + 1), NOW), { ok: true, step: STEP + 1 });
});

test('verifyTotp refuses codes two steps away unless the window is widened', () => {
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP - 2), NOW), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP + 2), NOW), { ok: false, reason: 'mismatch' });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP - 2), NOW, { window: 2 }), { ok: true, step: STEP - 2 });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP - 1), NOW, { window: 0 }), { ok: false, reason: 'mismatch' });
});

test('verifyTotp refuses a wrong code', () => {
  const window = new Set([-1, 0, 1].map((d) => codeAt(STEP + d)));
  const wrong = ['000000', '111111', '123456'].find((code) => !window.has(code)) ?? '';
  assert.deepEqual(verifyTotp(SECRET, wrong, NOW), { ok: false, reason: 'mismatch' });
});

test('verifyTotp refuses malformed codes', () => {
  for (const code of ['12345', '1234567', 'abcdef', ' 123456', '123456 ', '12345６', '', '+12345', '1e+05']) {
    assert.deepEqual(verifyTotp(SECRET, code, NOW), { ok: false, reason: 'malformed' }, JSON.stringify(code));
  }
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP).slice(0, 6), NOW, { digits: 8 }), { ok: false, reason: 'malformed' });
});

test('verifyTotp reports a code used again as replayed', () => {
  const first = verifyTotp(SECRET, codeAt(STEP), NOW);
  assert.ok(first.ok);
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP), NOW, { lastUsedStep: first.step }), { ok: false, reason: 'replayed' });
  // Still replayed a step later, while the code is inside the window.
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP), NOW + 30_000, { lastUsedStep: first.step }), { ok: false, reason: 'replayed' });
});

test('verifyTotp refuses an older in-window code after a newer one was used', () => {
  const newer = verifyTotp(SECRET, codeAt(STEP + 1), NOW);
  assert.deepEqual(newer, { ok: true, step: STEP + 1 });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP), NOW, { lastUsedStep: STEP + 1 }), { ok: false, reason: 'replayed' });
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP - 1), NOW, { lastUsedStep: STEP + 1 }), { ok: false, reason: 'replayed' });
  // A newer code after an older one is fine.
  assert.deepEqual(verifyTotp(SECRET, codeAt(STEP), NOW, { lastUsedStep: STEP - 1 }), { ok: true, step: STEP });
});

test('verifyTotp near the epoch ignores negative steps', () => {
  assert.deepEqual(verifyTotp(SECRET, hotp(SECRET, 0), 1000), { ok: true, step: 0 });
  assert.deepEqual(verifyTotp(SECRET, hotp(SECRET, 1), 1000), { ok: true, step: 1 });
});

test('otpauthUri encodes the label and parameters and carries the secret', () => {
  const secret = generateTotpSecret();
  const issuer = 'Acme Corp & Sons/Ops?';
  const accountName = 'josé+ops@example.com #1';
  const uri = otpauthUri({ issuer, accountName, secret });

  assert.ok(uri.startsWith('otpauth://totp/Acme%20Corp%20%26%20Sons%2FOps%3F:jos%C3%A9%2Bops%40example.com%20%231?'), uri);
  assert.doesNotMatch(uri, /[ +]/);

  const url = new URL(uri);
  assert.equal(url.protocol, 'otpauth:');
  assert.equal(url.host, 'totp');
  assert.equal(decodeURIComponent(url.pathname.slice(1)), `${issuer}:${accountName}`);
  assert.equal(url.searchParams.get('issuer'), issuer);
  assert.equal(url.searchParams.get('algorithm'), 'SHA1');
  assert.equal(url.searchParams.get('digits'), '6');
  assert.equal(url.searchParams.get('period'), '30');
  const encoded = url.searchParams.get('secret') ?? '';
  assert.match(encoded, /^[A-Z2-7]+$/);
  assert.deepEqual(base32Decode(encoded), secret);
});

test('otpauthUri refuses colons, which would split the label', () => {
  const secret = generateTotpSecret();
  assert.throws(() => otpauthUri({ issuer: 'Acme:Prod', accountName: 'alice', secret }), RangeError);
  assert.throws(() => otpauthUri({ issuer: 'Acme', accountName: 'alice:admin', secret }), RangeError);
});

test('qrCodeSvg renders an SVG with path data', async () => {
  const svg = await qrCodeSvg(otpauthUri({ issuer: 'Airlock', accountName: 'alice@example.com', secret: generateTotpSecret() }));
  assert.ok(svg.startsWith('<svg') || svg.startsWith('<?xml'), svg.slice(0, 40));
  assert.match(svg, /<path[^>]* d="M[^"]+"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});
