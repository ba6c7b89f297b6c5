/**
 * A short-lived, in-process cache for what every role-session call reads: the session itself
 * and its permission set's compiled policies. Any successful change made through this node's
 * API empties it (the generation moves), so a policy edit or a revocation applies to the very
 * next call here; changes made on another node apply within MAX_AGE_MS.
 */

export const MAX_AGE_MS = 1000;
const MAX_ENTRIES = 10_000;

export class ChangeGeneration {
  private current = 0;

  get value(): number {
    return this.current;
  }

  /** Called after every successful write. */
  bump(): void {
    this.current++;
  }
}

interface Entry<T> {
  readonly value: T;
  readonly generation: number;
  readonly at: number;
}

export class GenerationCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly generation: ChangeGeneration) {}

  async get(key: string, now: number, load: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.generation === this.generation.value && now - entry.at < MAX_AGE_MS && now >= entry.at) return entry.value;
    const generation = this.generation.value;
    const value = await load();
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { value, generation, at: now });
    return value;
  }
}
