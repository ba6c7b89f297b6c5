/**
 * Reconnect delays: exponential backoff with full jitter (the delay is drawn uniformly from
 * [0, min(cap, base·2^attempt)]), so a fleet that lost its server does not return in lockstep.
 */

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface BackoffOptions {
  readonly baseMs?: number;
  readonly capMs?: number;
  /** Uniform in [0, 1), like Math.random. */
  readonly random?: () => number;
}

export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 1_000;
    this.capMs = options.capMs ?? 60_000;
    this.#random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) throw new RangeError('Backoff needs 0 < base <= cap.');
  }

  /** Retries since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The upper bound of the delay for a given attempt: min(cap, base·2^attempt). */
  ceiling(attempt: number = this.#attempt): number {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(attempt, 52));
  }

  /** The next delay, in whole milliseconds, and one more attempt counted. */
  next(): number {
    const ceiling = this.ceiling();
    this.#attempt++;
    const draw = this.#random();
    const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1) : 0;
    return Math.round(unit * ceiling);
  }

  /** Back to the first attempt: after a connection the server welcomed. */
  reset(): void {
    this.#attempt = 0;
  }

  /** Straight to the cap: for a failure that quick retries would only repeat. */
  toCap(): void {
    while (this.ceiling() < this.capMs) this.#attempt++;
  }
}
