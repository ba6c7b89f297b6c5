/**
 * Counting failures per key (a user name, a source address) to lock out guessing. After
 * `maxFailures` failures the key is locked, for a delay that doubles with each further failure
 * up to `maxLockMs`. Keys are counted whether or not the user exists, so a lockout tells
 * nothing about which names are real.
 */
import { sql } from 'kysely';
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

  /**
   * Counts one attempt, atomically (attempts arriving together are all counted), and says
   * whether it may be checked. Under the limit it may. At the limit, only the first attempt
   * after a lock ends may: it sets the next, longer lock before it is checked, so a burst gets
   * one check, not one each. Count before checking, and forgive() what turned out right.
   */
  async count(key: string, now: number): Promise<'check' | 'locked'> {
    const { windowMs, maxFailures } = this.policy;
    const row = await this.db
      .insertInto('throttles')
      .values({ key, failures: 1, window_start: now, locked_until: 0 })
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({
          failures: sql<number>`CASE WHEN ${now} - throttles.window_start > ${windowMs} THEN 1 ELSE throttles.failures + 1 END`,
          window_start: sql<number>`CASE WHEN ${now} - throttles.window_start > ${windowMs} THEN ${now} ELSE throttles.window_start END`,
        }),
      )
      .returning(['failures', 'locked_until'])
      .executeTakeFirstOrThrow();
    if (row.locked_until > now) return 'locked';
    if (row.failures < maxFailures) return 'check';
    const until = now + Math.min(this.policy.baseLockMs * 2 ** (row.failures - maxFailures), this.policy.maxLockMs);
    const claimed = await this.db.updateTable('throttles').set({ locked_until: until }).where('key', '=', key).where('locked_until', '<=', now).executeTakeFirst();
    return claimed.numUpdatedRows > 0n ? 'check' : 'locked';
  }

  /** Takes back one counted attempt that turned out right, and the lock it set. */
  async forgive(key: string): Promise<void> {
    await this.db
      .updateTable('throttles')
      .set((eb) => ({ failures: eb('failures', '-', 1), locked_until: 0 }))
      .where('key', '=', key)
      .where('failures', '>', 0)
      .execute();
  }

  /** Counts a failure found without a guarded check (an unknown link, a bad signature). */
  async fail(key: string, now: number): Promise<void> {
    await this.count(key, now);
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('throttles').where('key', '=', key).execute();
  }
}
