/** Retry delays for resuming a session, as AWS's plugin spaces them. */

export interface RetryPolicy {
  /** The first delay is drawn from [initialMs, 2·initialMs). */
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly attempts: number;
}

/**
 * 100–200 ms, ×2, at most 5 s, 14 attempts: 46–51 seconds in all. Enough to ride out a node's
 * death: ResumeSession answers the dead node's URL until its heartbeat is 15 s old, then a live
 * node takes the session over.
 */
export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, factor: 2, maxMs: 5_000, attempts: 14 };

/** One delay per attempt. */
export function* backoffDelays(policy: RetryPolicy, random: () => number = Math.random): Generator<number> {
  let delay = policy.initialMs * (1 + random());
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    yield Math.round(Math.min(delay, policy.maxMs));
    delay *= policy.factor;
  }
}
