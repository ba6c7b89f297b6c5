/**
 * The request context: condition keys and their values. Key names are case-insensitive (the tag
 * key in `aws:PrincipalTag/Team` too), so they are lower-cased once here. A string is a
 * single-valued key; an array is a multi-valued key. Numbers and booleans are read as their
 * text, as IAM does.
 */
import type { VariableSource } from './template.js';

export type ContextValue = string | number | boolean | readonly (string | number | boolean)[];
export type ContextEntries = Readonly<Record<string, ContextValue>>;

interface Entry {
  readonly values: readonly string[];
  readonly multiValued: boolean;
}

export class ContextKeyError extends Error {
  override readonly name = 'ContextKeyError';
}

export class RequestContext implements VariableSource {
  private readonly entries = new Map<string, Entry>();

  constructor(entries: ContextEntries = {}) {
    for (const [name, value] of Object.entries(entries)) {
      const key = name.toLowerCase();
      if (this.entries.has(key)) {
        throw new ContextKeyError(`Context key ${name} is given twice; key names are case-insensitive.`);
      }
      const multiValued = Array.isArray(value);
      const list: readonly (string | number | boolean)[] = multiValued ? value : [value as string | number | boolean];
      this.entries.set(key, { values: list.map(String), multiValued });
    }
  }

  /** The key's values, or undefined when the request does not carry it. */
  values(key: string): readonly string[] | undefined {
    return this.entries.get(key)?.values;
  }

  single(key: string): string | undefined {
    const entry = this.entries.get(key);
    return entry === undefined || entry.multiValued ? undefined : entry.values[0];
  }

  isMultiValued(key: string): boolean {
    return this.entries.get(key)?.multiValued ?? false;
  }
}
