/**
 * Counting failures per key (a user name, a source address) to lock out guessing. After
 * `maxFailures` failures the key is locked, for a delay that doubles with each further failure
 * up to `maxLockMs`. Keys are counted whether or not the user exists, so a lockout tells
 * nothing about which names are real.
 */
import type { Db } from '../storage/db.js';

export interface ThrottlePolicy {
  readonly maxFailures: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  /** Failures older than this are forgotten. */
  readonly windowMs: number;
}

export const USER_LOCKOUT: ThrottlePolicy = { maxFailures: 5, baseLockMs: 30_000, maxLockMs: 3_600_000, windowMs: 3_600_000 };
export const ADDRESS_LIMIT: ThrottlePolicy = { maxFailures: 50, baseLockMs: 60_000, maxLockMs: 3_600_000, windowMs: 900_000 };

export class Throttle {
  constructor(
    private readonly db: Db,
    private readonly policy: ThrottlePolicy,
  ) {}

  /** Milliseconds the key stays locked, or 0. */
  async lockedFor(key: string, now: number): Promise<number> {
    const row = await this.db.selectFrom('throttles').select('locked_until').where('key', '=', key).executeTakeFirst();
    return Math.max(0, (row?.locked_until ?? 0) - now);
  }

  async fail(key: string, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('throttles').selectAll().where('key', '=', key).executeTakeFirst();
      const fresh = row === undefined || now - row.window_start > this.policy.windowMs;
      const failures = fresh ? 1 : row.failures + 1;
      const over = failures - this.policy.maxFailures;
      const lockedUntil = over >= 0 ? now + Math.min(this.policy.baseLockMs * 2 ** over, this.policy.maxLockMs) : 0;
      const values = { key, failures, window_start: fresh ? now : row.window_start, locked_until: lockedUntil };
      await trx
        .insertInto('throttles')
        .values(values)
        .onConflict((conflict) => conflict.column('key').doUpdateSet({ failures, window_start: values.window_start, locked_until: lockedUntil }))
        .execute();
    });
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('throttles').where('key', '=', key).execute();
  }
}
