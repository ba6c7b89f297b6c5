/**
 * `--context-entries` as `aws iam simulate-custom-policy` takes them: JSON
 * (`[{"ContextKeyName": …, "ContextKeyValues": […], "ContextKeyType": "string"}]`) or shorthand
 * (`ContextKeyName=aws:username,ContextKeyValues=alice,ContextKeyType=string`, one entry a word).
 */
import type { ContextEntries, ContextValue } from '@airlock/policy';
import { UsageError } from './args.js';

const SINGLE_TYPES = ['string', 'numeric', 'boolean', 'ip', 'binary', 'date'];
const TYPES = [...SINGLE_TYPES, ...SINGLE_TYPES.map((type) => `${type}List`)];
const FIELDS = ['ContextKeyName', 'ContextKeyValues', 'ContextKeyType'] as const;
type Field = (typeof FIELDS)[number];

interface Entry {
  readonly name: string;
  readonly values: readonly string[];
  readonly type: string;
}

export function parseContextEntries(words: readonly string[]): ContextEntries {
  const entries = words.flatMap((word) => (word.trimStart().startsWith('[') || word.trimStart().startsWith('{') ? fromJson(word) : [fromShorthand(word)]));
  const context: Record<string, ContextValue> = {};
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.name.toLowerCase())) throw new UsageError(`Context key ${entry.name} is given twice; key names are case-insensitive.`);
    seen.add(entry.name.toLowerCase());
    if (!TYPES.includes(entry.type)) {
      throw new UsageError(`ContextKeyType ${entry.type} is not one of ${TYPES.join(', ')}.`);
    }
    const isList = entry.type.endsWith('List');
    if (!isList && entry.values.length !== 1) {
      throw new UsageError(`${entry.name} has type ${entry.type} but ${entry.values.length} values; use ${entry.type}List for several.`);
    }
    context[entry.name] = isList ? entry.values : (entry.values[0] as string);
  }
  return context;
}

function fromShorthand(word: string): Entry {
  const fields = new Map<Field, string[]>();
  let current: string[] | undefined;
  for (const piece of word.split(',')) {
    const eq = piece.indexOf('=');
    const name = eq < 0 ? undefined : FIELDS.find((field) => field === piece.slice(0, eq));
    if (name !== undefined) {
      fields.set(name, (current = [piece.slice(eq + 1)]));
    } else if (current !== undefined) {
      current.push(piece);
    } else {
      throw new UsageError(`Cannot read context entry "${word}"; write ContextKeyName=k,ContextKeyValues=v,ContextKeyType=string.`);
    }
  }
  return entryOf(word, {
    name: fields.get('ContextKeyName')?.join(','),
    values: fields.get('ContextKeyValues'),
    type: fields.get('ContextKeyType')?.join(',') ?? 'string',
  });
}

function fromJson(word: string): Entry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(word);
  } catch {
    throw new UsageError(`--context-entries is not valid JSON: ${word}`);
  }
  const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  return list.map((item) => {
    const record = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    const values = record['ContextKeyValues'];
    return entryOf(JSON.stringify(item), {
      name: typeof record['ContextKeyName'] === 'string' ? record['ContextKeyName'] : undefined,
      values: Array.isArray(values) ? values.map(String) : undefined,
      type: typeof record['ContextKeyType'] === 'string' ? record['ContextKeyType'] : 'string',
    });
  });
}

function entryOf(source: string, raw: { name: string | undefined; values: readonly string[] | undefined; type: string }): Entry {
  if (raw.name === undefined || raw.name === '') throw new UsageError(`Context entry ${source} has no ContextKeyName.`);
  if (raw.values === undefined) throw new UsageError(`Context entry ${source} has no ContextKeyValues.`);
  return { name: raw.name, values: raw.values, type: raw.type };
}
