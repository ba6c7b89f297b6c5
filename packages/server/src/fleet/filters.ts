/**
 * What the fleet's filters share beyond DescribeInstanceInformation's: Systems Manager's
 * operators (DescribeInstanceProperties' FiltersWithOperator, GetInventory's filter types),
 * EC2's wildcard values, and pages of instances with their tags (read at once for each batch).
 */
import type { Kysely } from 'kysely';
import type { Database, InstancesTable } from '../storage/schema.js';
import { pageOfInstances, type InstanceQuery } from './instances.js';

export type Operator = 'Equal' | 'NotEqual' | 'BeginWith' | 'LessThan' | 'GreaterThan';

/** Orders numbers within text as numbers: 0.9.0 < 0.10.0, 10.0.0.5 < 10.0.0.10. */
const natural = new Intl.Collator('en', { numeric: true });

/**
 * Whether what an instance has for a key (no value, one, or several, as tag keys) passes a
 * filter. Equal: one of its values is one of the wanted; NotEqual: none is (so an instance
 * without the value passes); BeginWith: one starts with one of them; LessThan/GreaterThan (one
 * wanted value): one of its values orders before/after it.
 */
export function passes(operator: Operator, wanted: readonly string[], actual: readonly (string | undefined)[]): boolean {
  const values = actual.filter((value): value is string => value !== undefined);
  switch (operator) {
    case 'Equal':
      return values.some((value) => wanted.includes(value));
    case 'NotEqual':
      return !values.some((value) => wanted.includes(value));
    case 'BeginWith':
      return values.some((value) => wanted.some((prefix) => value.startsWith(prefix)));
    case 'LessThan':
      return values.some((value) => wanted.every((bound) => natural.compare(value, bound) < 0));
    case 'GreaterThan':
      return values.some((value) => wanted.every((bound) => natural.compare(value, bound) > 0));
  }
}

/** An EC2 filter value: `*` any run of characters, `?` any one, `\` escapes either. */
export function wildcard(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern.charAt(index);
    const next = pattern.charAt(index + 1);
    if (char === '\\' && (next === '*' || next === '?' || next === '\\')) {
      source += `\\${next}`;
      index++;
    } else if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

/** The tags of these instances, by instance id, in key order (an instance without tags has none in the map). */
export async function tagsOf(db: Kysely<Database>, instanceIds: readonly string[]): Promise<Map<string, Record<string, string>>> {
  const tags = new Map<string, Record<string, string>>();
  if (instanceIds.length === 0) return tags;
  const rows = await db.selectFrom('instance_tags').select(['instance_id', 'key', 'value']).where('instance_id', 'in', instanceIds).execute();
  // In key order by code point, the same on every backend (a database's collation may ignore case).
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const row of rows) {
    let own = tags.get(row.instance_id);
    // Without a prototype: a tag may be called __proto__.
    if (own === undefined) tags.set(row.instance_id, (own = Object.create(null) as Record<string, string>));
    own[row.key] = row.value;
  }
  return tags;
}

/** An instance as a filter sees it: its row, what the operation shows of it, and its tags. */
export interface Candidate<T> {
  readonly row: InstancesTable;
  readonly item: T;
  readonly tags: Readonly<Record<string, string>>;
}

const NO_TAGS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>);

/** One page of the query's instances as `describe` makes them, with their tags, keeping those that pass every test. */
export async function pageWithTags<T>(
  db: Kysely<Database>,
  query: InstanceQuery,
  options: { readonly after: string | undefined; readonly size: number },
  describe: (row: InstancesTable, tags: Readonly<Record<string, string>>) => T,
  tests: readonly ((candidate: Candidate<T>) => boolean)[],
): Promise<{ items: T[]; nextToken?: string }> {
  return pageOfInstances(query, { ...options, filtered: tests.length > 0 }, async (rows) => {
    const tags = await tagsOf(db, rows.map((row) => row.instance_id));
    return rows.map((row) => {
      const own = tags.get(row.instance_id) ?? NO_TAGS;
      const item = describe(row, own);
      return tests.every((test) => test({ row, item, tags: own })) ? item : undefined;
    });
  });
}
