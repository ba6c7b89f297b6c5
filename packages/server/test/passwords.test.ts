/**
 * Password hashing with OWASP's argon2id parameters, constant-time sign-in for unknown users, and
 * the NIST SP 800-63B style policy (length and blocklist, no character classes).
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import argon2 from 'argon2';
import { COMMON_PASSWORDS } from '@airlock/server/identity/common-passwords';
import {
  checkPasswordPolicy,
  hashPassword,
  hashQueue,
  MAX_CONCURRENT_HASHES,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  verifyAgainstDummy,
  verifyPassword,
} from '@airlock/server/identity/passwords';

const PASSWORD = 'correct horse battery staple';

describe('hashPassword and verifyPassword', () => {
  test('hashes with argon2id at m=19456, t=2, p=1, salted afresh each time', async () => {
    const [first, second] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    assert.ok(first.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), first);
    assert.notEqual(first, second);
  });

  test('accepts the right password and refuses a wrong one', async () => {
    const hash = await hashPassword(PASSWORD);
    assert.deepEqual(await verifyPassword(hash, PASSWORD), { ok: true, needsRehash: false });
    assert.deepEqual(await verifyPassword(hash, 'correct horse battery stapler'), { ok: false, needsRehash: false });
    assert.deepEqual(await verifyPassword(hash, ''), { ok: false, needsRehash: false });
  });

  test('a malformed stored hash fails the check instead of throwing', async () => {
    for (const hash of ['', 'not a hash', '$argon2id$v=19$m=19456,t=2,p=1$garbage', '$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaA']) {
      assert.deepEqual(await verifyPassword(hash, PASSWORD), { ok: false, needsRehash: false }, hash);
    }
  });

  test('asks for a rehash when the stored hash has other parameters or another algorithm', async () => {
    const weaker = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 8192, timeCost: 2, parallelism: 1 });
    const argon2i = await argon2.hash(PASSWORD, { type: argon2.argon2i, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    assert.deepEqual(await verifyPassword(weaker, PASSWORD), { ok: true, needsRehash: true });
    assert.deepEqual(await verifyPassword(argon2i, PASSWORD), { ok: true, needsRehash: true });
    // Without the right password the caller could not rehash, so it is not asked to.
    assert.deepEqual(await verifyPassword(weaker, 'wrong password'), { ok: false, needsRehash: false });
  });

  test('normalises Unicode, so composed and decomposed forms are the same password', async () => {
    const hash = await hashPassword('caf\u00e9 au lait, s\u2019il vous pla\u00eet');
    assert.equal((await verifyPassword(hash, 'cafe\u0301 au lait, s\u2019il vous plai\u0302t')).ok, true);
  });
});

describe('hashes at once', () => {
  test('at most MAX_CONCURRENT_HASHES (half the CPUs, at least one) run at once; the rest wait their turn and all finish', async () => {
    const hash = await hashPassword(PASSWORD);
    assert.ok(MAX_CONCURRENT_HASHES >= 1);
    assert.deepEqual(hashQueue(), { running: 0, waiting: 0 });
    const calls = Array.from({ length: MAX_CONCURRENT_HASHES + 3 }, (_, i) => verifyPassword(hash, i % 2 === 0 ? PASSWORD : 'wrong password'));
    calls.push(hashPassword(PASSWORD).then(() => ({ ok: true, needsRehash: false })));
    assert.deepEqual(hashQueue(), { running: MAX_CONCURRENT_HASHES, waiting: 4 });
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((result) => result.ok),
      [...Array.from({ length: MAX_CONCURRENT_HASHES + 3 }, (_, i) => i % 2 === 0), true],
    );
    assert.deepEqual(hashQueue(), { running: 0, waiting: 0 });
  });
});

describe('verifyAgainstDummy', () => {
  test('fails, and takes about as long as verifying a real hash', async () => {
    const hash = await hashPassword(PASSWORD);
    // The first call makes the dummy hash; keep that out of the measurement.
    assert.equal(await verifyAgainstDummy(PASSWORD), false);

    const timed = async (run: () => Promise<unknown>): Promise<number> => {
      const start = performance.now();
      await run();
      return performance.now() - start;
    };
    const real: number[] = [];
    const dummy: number[] = [];
    // Interleaved, so a burst of load on a shared machine hits both sides alike.
    for (let i = 0; i < 5; i++) {
      real.push(await timed(() => verifyPassword(hash, PASSWORD)));
      dummy.push(await timed(() => verifyAgainstDummy(PASSWORD)));
    }
    const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
    const ratio = median(dummy) / median(real);
    assert.ok(ratio > 0.3 && ratio < 3, `dummy/real verification time ratio ${ratio.toFixed(2)}`);
  });
});

describe('checkPasswordPolicy', () => {
  test('accepts a good passphrase', () => {
    assert.deepEqual(checkPasswordPolicy(PASSWORD, { userName: 'testuser01', email: 'jane.doe@example.com' }), []);
    assert.deepEqual(checkPasswordPolicy('tulip-ferry-oboe', {}), []);
  });

  test('asks for no character classes: a long lower-case phrase passes', () => {
    assert.deepEqual(checkPasswordPolicy('wandering purple lighthouse', {}), []);
  });

  test('refuses passwords shorter than 8 characters', () => {
    const problems = checkPasswordPolicy('tulip7', {});
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /at least 8 characters/);
    assert.deepEqual(checkPasswordPolicy('x'.repeat(MIN_PASSWORD_LENGTH - 1) + 'y', {}), []);
  });

  test('counts characters, not UTF-16 units', () => {
    // Seven emoji are fourteen UTF-16 units but seven characters.
    assert.equal(checkPasswordPolicy('\u{1F511}'.repeat(7), {}).length, 1);
  });

  test('refuses passwords longer than 128 characters', () => {
    const atLimit = 'lighthouse '.repeat(12).slice(0, MAX_PASSWORD_LENGTH);
    assert.deepEqual(checkPasswordPolicy(atLimit, {}), []);
    const problems = checkPasswordPolicy(`${atLimit}z`, {});
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /at most 128 characters/);
  });

  test('refuses common passwords in any case', () => {
    for (const password of ['password1', 'Password123', 'PASSWORD123', 'qwertyuiop', 'QwErTyUiOp', 'P@ssw0rd', 'Summer2024!', 'iloveyou']) {
      const problems = checkPasswordPolicy(password, {});
      assert.equal(problems.length, 1, password);
      assert.match(problems[0] ?? '', /most common passwords/, password);
    }
  });

  test('refuses passwords that contain the user name, in any case', () => {
    const problems = checkPasswordPolicy('myTESTUSER01pass', { userName: 'testuser01' });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /user name/);
    // Two-character names would forbid too much to be worth it.
    assert.deepEqual(checkPasswordPolicy('boat-jo-harbour', { userName: 'jo' }), []);
  });

  test('refuses passwords that contain the local part of the email address', () => {
    const problems = checkPasswordPolicy('hello-Jane.Doe-2031', { email: 'jane.doe@example.com' });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /email address/);
    assert.deepEqual(checkPasswordPolicy('example.com rocks', { email: 'jane.doe@example.com' }), []);
    assert.deepEqual(checkPasswordPolicy('bo-harbour-lights', { email: 'bo@example.com' }), []);
  });

  test('reports every problem, each as a sentence a person can act on', () => {
    const context = { userName: 'admin', email: 'admin@example.com' };
    assert.equal(checkPasswordPolicy('admin', context).length, 3);
    const problems = [
      ...checkPasswordPolicy('admin', context),
      ...checkPasswordPolicy('letmein1', context),
      ...checkPasswordPolicy('z'.repeat(MAX_PASSWORD_LENGTH + 1), context),
    ];
    assert.equal(new Set(problems).size, 5);
    for (const problem of problems) {
      assert.match(problem, /^[A-Z].*\.$/, problem);
      assert.match(problem, /\b(Use|Choose|Leave)\b/, problem);
    }
  });
});

describe('COMMON_PASSWORDS', () => {
  test('holds at least 1000 lower-case entries of 8 or more characters', () => {
    assert.ok(COMMON_PASSWORDS.size >= 1000, `${COMMON_PASSWORDS.size} entries`);
    for (const entry of COMMON_PASSWORDS) {
      assert.equal(entry, entry.toLowerCase());
      assert.ok(Array.from(entry).length >= 8, entry);
    }
    for (const entry of ['123456789', 'password', 'qwertyuiop', 'iloveyou', 'letmein1', 'trustno1', 'passw0rd', 'changeme']) {
      assert.ok(COMMON_PASSWORDS.has(entry), entry);
    }
  });
});
