import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '@airlock/agent';

test('full jitter: each delay lies in [0, min(cap, base·2^n)]', () => {
  const draws = [0, 0.25, 0.5, 0.75, 0.999_999];
  for (const draw of draws) {
    const backoff = new Backoff({ baseMs: 1_000, capMs: 60_000, random: () => draw });
    for (let n = 0; n < 12; n++) {
      const ceiling = Math.min(60_000, 1_000 * 2 ** n);
      assert.equal(backoff.ceiling(), ceiling);
      const delay = backoff.next();
      assert.ok(delay >= 0 && delay <= ceiling, `attempt ${n}: ${delay} outside [0, ${ceiling}]`);
      assert.equal(delay, Math.round(draw * ceiling));
    }
  }
});

test('the defaults are base 1 s and cap 60 s, and the ceiling stops at the cap', () => {
  const backoff = new Backoff({ random: () => 0.999_999 });
  const delays = Array.from({ length: 10 }, () => backoff.next());
  assert.deepEqual(
    delays.map((delay) => Math.round(delay / 1000)),
    [1, 2, 4, 8, 16, 32, 60, 60, 60, 60],
  );
  // Far past any sensible attempt count the arithmetic still holds.
  for (let i = 0; i < 2000; i++) backoff.next();
  assert.equal(backoff.ceiling(), 60_000);
  assert.ok(backoff.next() <= 60_000);
});

test('the jitter is full: delays spread over the whole range, not around a mean', () => {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const seen: number[] = [];
  for (let i = 0; i < 400; i++) {
    const backoff = new Backoff({ random });
    for (let n = 0; n < 3; n++) backoff.next();
    seen.push(backoff.next()); // the 4th attempt: ceiling 8 s
  }
  assert.ok(Math.min(...seen) < 800, 'some delays are near 0');
  assert.ok(Math.max(...seen) > 7_200, 'some delays are near the ceiling');
});

test('reset after a welcome starts again from the base', () => {
  const backoff = new Backoff({ baseMs: 1_000, capMs: 60_000, random: () => 0.999_999 });
  for (let i = 0; i < 5; i++) backoff.next();
  assert.equal(backoff.attempt, 5);
  backoff.reset();
  assert.equal(backoff.attempt, 0);
  assert.equal(backoff.next(), 1_000);
  assert.equal(backoff.next(), 2_000);
});

test('toCap jumps straight to the cap, for a connection another agent took over', () => {
  const backoff = new Backoff({ baseMs: 1_000, capMs: 60_000, random: () => 0.5 });
  backoff.toCap();
  assert.equal(backoff.ceiling(), 60_000);
  assert.equal(backoff.next(), 30_000);
});

test('random values outside [0, 1) are clamped; a bad range is refused', () => {
  assert.equal(new Backoff({ random: () => -3 }).next(), 0);
  assert.equal(new Backoff({ random: () => 7 }).next(), 1_000);
  assert.equal(new Backoff({ random: () => Number.NaN }).next(), 0);
  assert.throws(() => new Backoff({ baseMs: 0 }), RangeError);
  assert.throws(() => new Backoff({ baseMs: 10, capMs: 5 }), RangeError);
});
