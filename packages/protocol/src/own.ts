/**
 * A record's own value for a key, never one it inherits: keys come from requests, tags and
 * files, and `toString`, `constructor` or `__proto__` must look up nothing, not Object.prototype.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
