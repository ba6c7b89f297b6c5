/**
 * Event patterns, as Amazon EventBridge reads them. A pattern is a JSON object shaped like the
 * events it matches: every field it names must match (AND), and a field's list of values matches
 * when any of them does (OR). A leaf's values are exact values (strings, numbers, true, false,
 * null) or one-key filter objects: prefix, suffix, equals-ignore-case, wildcard, anything-but,
 * numeric, exists and cidr; `$or` lists alternative sub-patterns. A field whose value in the
 * event is a list matches when any of its items does. Only leaves (strings, numbers, booleans,
 * null) are values: an object where a leaf is expected counts as absent, as in EventBridge.
 *
 * compilePattern() checks a pattern once (refusing it with a message naming the field at fault);
 * the compiled form then matches events with no further parsing.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export class PatternError extends Error {
  override readonly name = 'PatternError';
}

type Leaf = string | number | boolean | null;
type Test = (value: Leaf) => boolean;

interface LeafMatcher {
  readonly kind: 'leaf';
  /** Matches one present leaf value. */
  readonly tests: readonly Test[];
  /** `exists: false` among the values: matches when the field is absent. */
  readonly whenAbsent: boolean;
}

interface ObjectMatcher {
  readonly kind: 'object';
  readonly fields: readonly (readonly [string, Matcher])[];
  /** Each `$or` entry: at least one of its alternatives must match. */
  readonly alternatives: readonly (readonly ObjectMatcher[])[];
}

type Matcher = LeafMatcher | ObjectMatcher;

export interface CompiledPattern {
  matches(event: unknown): boolean;
}

/** Reads and checks a pattern's JSON text. Throws PatternError naming what is wrong. */
export function compilePattern(text: string): CompiledPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PatternError('The event pattern is not valid JSON.');
  }
  if (!isObject(parsed)) throw new PatternError('The event pattern must be a JSON object.');
  const root = compileObject(parsed, '');
  return { matches: (event) => matchObject(root, event) };
}

function compileObject(pattern: Record<string, unknown>, path: string): ObjectMatcher {
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw new PatternError(`${where(path)}: empty objects are not allowed.`);
  const fields: (readonly [string, Matcher])[] = [];
  const alternatives: ObjectMatcher[][] = [];
  for (const [key, value] of entries) {
    const at = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new PatternError(`${where(at)}: $or takes a list of at least two patterns.`);
      alternatives.push(
        value.map((alternative, index) => {
          if (!isObject(alternative)) throw new PatternError(`${where(`${at}[${index}]`)}: each $or entry is a pattern object.`);
          return compileObject(alternative, path);
        }),
      );
    } else if (isObject(value)) {
      fields.push([key, compileObject(value, at)]);
    } else if (Array.isArray(value)) {
      fields.push([key, compileLeaf(value, at)]);
    } else {
      throw new PatternError(`${where(at)}: a field's values must be in a list (e.g. ${JSON.stringify({ [key]: [value] })}), or be a nested pattern object.`);
    }
  }
  return { kind: 'object', fields, alternatives };
}

function compileLeaf(values: readonly unknown[], path: string): LeafMatcher {
  if (values.length === 0) throw new PatternError(`${where(path)}: empty lists are not allowed.`);
  const tests: Test[] = [];
  let whenAbsent = false;
  for (const value of values) {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') {
      tests.push((leaf) => leaf === value);
    } else if (typeof value === 'number') {
      finite(value, path);
      tests.push((leaf) => leaf === value);
    } else if (isObject(value)) {
      const filter = compileFilter(value, path);
      if (filter === 'absent') whenAbsent = true;
      else tests.push(filter);
    } else {
      throw new PatternError(`${where(path)}: ${JSON.stringify(value)} is neither a value nor a filter object.`);
    }
  }
  return { kind: 'leaf', tests, whenAbsent };
}

/** One filter object; 'absent' for `exists: false`. */
function compileFilter(filter: Record<string, unknown>, path: string): Test | 'absent' {
  const keys = Object.keys(filter);
  const [operator] = keys;
  if (keys.length !== 1 || operator === undefined) throw new PatternError(`${where(path)}: a filter object has exactly one key (prefix, anything-but, numeric, exists, …), not ${keys.length}.`);
  const operand = filter[operator];
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard':
      return stringTest(operator, operand, path);
    case 'anything-but':
      return anythingBut(operand, path);
    case 'numeric':
      return numeric(operand, path);
    case 'exists':
      if (typeof operand !== 'boolean') throw new PatternError(`${where(path)}: exists takes true or false.`);
      // A present value of any kind satisfies exists: true.
      return operand ? () => true : 'absent';
    case 'cidr':
      return cidr(operand, path);
    default:
      throw new PatternError(`${where(path)}: ${operator} is not a filter Airlock knows (prefix, suffix, equals-ignore-case, wildcard, anything-but, numeric, exists, cidr).`);
  }
}

type StringOperator = 'prefix' | 'suffix' | 'equals-ignore-case' | 'wildcard';

/** prefix, suffix (each optionally `{equals-ignore-case: …}`), equals-ignore-case, wildcard. */
function stringTest(operator: StringOperator, operand: unknown, path: string): Test {
  if ((operator === 'prefix' || operator === 'suffix') && isObject(operand)) {
    const keys = Object.keys(operand);
    const folded = operand['equals-ignore-case'];
    if (keys.length !== 1 || typeof folded !== 'string') throw new PatternError(`${where(path)}: ${operator} takes a string, or {"equals-ignore-case": "…"}.`);
    const wanted = folded.toLowerCase();
    return operator === 'prefix' ? stringOnly((leaf) => leaf.toLowerCase().startsWith(wanted)) : stringOnly((leaf) => leaf.toLowerCase().endsWith(wanted));
  }
  if (typeof operand !== 'string') throw new PatternError(`${where(path)}: ${operator} takes a string.`);
  switch (operator) {
    case 'prefix':
      return stringOnly((leaf) => leaf.startsWith(operand));
    case 'suffix':
      return stringOnly((leaf) => leaf.endsWith(operand));
    case 'equals-ignore-case': {
      const wanted = operand.toLowerCase();
      return stringOnly((leaf) => leaf.toLowerCase() === wanted);
    }
    case 'wildcard': {
      const regex = wildcardRegex(operand, path);
      return stringOnly((leaf) => regex.test(leaf));
    }
  }
}

function anythingBut(operand: unknown, path: string): Test {
  if (typeof operand === 'string' || typeof operand === 'number') {
    if (typeof operand === 'number') finite(operand, path);
    return (leaf) => leaf !== operand;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) throw new PatternError(`${where(path)}: anything-but takes a non-empty list.`);
    const excluded = new Set<unknown>();
    for (const item of operand) {
      if (typeof item !== 'string' && typeof item !== 'number') throw new PatternError(`${where(path)}: anything-but lists hold strings or numbers.`);
      excluded.add(item);
    }
    return (leaf) => !excluded.has(leaf);
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const [operator] = keys;
    if (keys.length !== 1 || operator === undefined) throw new PatternError(`${where(path)}: anything-but takes one filter: prefix, suffix, equals-ignore-case or wildcard.`);
    const inner = operand[operator];
    if (operator === 'equals-ignore-case' && Array.isArray(inner)) {
      if (inner.length === 0 || !inner.every((item): item is string => typeof item === 'string')) throw new PatternError(`${where(path)}: equals-ignore-case takes a string or a list of strings.`);
      const folded = new Set(inner.map((item) => item.toLowerCase()));
      return (leaf) => typeof leaf !== 'string' || !folded.has(leaf.toLowerCase());
    }
    if (operator !== 'prefix' && operator !== 'suffix' && operator !== 'equals-ignore-case' && operator !== 'wildcard') {
      throw new PatternError(`${where(path)}: anything-but takes prefix, suffix, equals-ignore-case or wildcard, not ${operator}.`);
    }
    if (typeof inner !== 'string') throw new PatternError(`${where(path)}: anything-but's ${operator} takes a string.`);
    const test = stringTest(operator, inner, path);
    return (leaf) => !test(leaf);
  }
  throw new PatternError(`${where(path)}: anything-but takes a string, a number, a list of them, or a filter object.`);
}

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);

/** `[">", 0, "<=", 5]`, `["<", 10]`, `["=", 3.5]`. */
function numeric(operand: unknown, path: string): Test {
  const bad = (): PatternError => new PatternError(`${where(path)}: numeric takes [OPERATOR, NUMBER] or a range [">" or ">=", LOW, "<" or "<=", HIGH]; operators are =, <, <=, >, >=.`);
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) throw bad();
  const comparisons: Test[] = [];
  for (let index = 0; index < operand.length; index += 2) {
    const operator: unknown = operand[index];
    const bound: unknown = operand[index + 1];
    if (typeof operator !== 'string' || typeof bound !== 'number') throw bad();
    finite(bound, path);
    comparisons.push(comparison(operator, bound, bad));
  }
  if (operand.length === 4) {
    const [low, lowValue, high, highValue] = operand as [string, number, string, number];
    if (!LOWER.has(low) || !UPPER.has(high)) throw bad();
    if (lowValue > highValue) throw new PatternError(`${where(path)}: the numeric range's low bound is above its high bound.`);
  }
  return (leaf) => typeof leaf === 'number' && comparisons.every((test) => test(leaf));
}

function comparison(operator: string, bound: number, bad: () => PatternError): Test {
  switch (operator) {
    case '=':
      return (leaf) => leaf === bound;
    case '<':
      return (leaf) => (leaf as number) < bound;
    case '<=':
      return (leaf) => (leaf as number) <= bound;
    case '>':
      return (leaf) => (leaf as number) > bound;
    case '>=':
      return (leaf) => (leaf as number) >= bound;
    default:
      throw bad();
  }
}

/** An IPv4 or IPv6 block: `10.0.0.0/24`, `2001:db8::/32`. */
function cidr(operand: unknown, path: string): Test {
  const bad = (): PatternError => new PatternError(`${where(path)}: cidr takes a block such as 10.0.0.0/24 or 2001:db8::/32.`);
  if (typeof operand !== 'string') throw bad();
  const [address = '', bits = '', ...rest] = operand.split('/');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (family === undefined || rest.length > 0 || !(prefix <= (family === 'ipv4' ? 32 : 128))) throw bad();
  const block = new BlockList();
  block.addSubnet(address, prefix, family);
  return stringOnly((leaf) => (isIPv4(leaf) ? block.check(leaf, 'ipv4') : isIPv6(leaf) && block.check(leaf, 'ipv6')));
}

/** `*` matches any run of characters; `\*` is a star, `\\` a backslash. Two stars in a row are refused, as EventBridge does. */
function wildcardRegex(pattern: string, path: string): RegExp {
  if (pattern.includes('**')) throw new PatternError(`${where(path)}: wildcard does not take consecutive stars.`);
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern.charAt(index);
    if (char === '\\') {
      const next = pattern.charAt(index + 1);
      if (next !== '*' && next !== '\\') throw new PatternError(`${where(path)}: in a wildcard, a backslash escapes only * or \\.`);
      source += `\\${next}`;
      index++;
    } else {
      source += char === '*' ? '[\\s\\S]*' : char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/* ---------------------------------------------------------------- matching */

function matchObject(matcher: ObjectMatcher, value: unknown): boolean {
  // A missing object (or a leaf where an object is expected) has no fields: only absence matches there.
  const object = isObject(value) ? value : {};
  for (const [key, field] of matcher.fields) {
    if (!matchField(field, Object.hasOwn(object, key) ? object[key] : undefined)) return false;
  }
  return matcher.alternatives.every((alternatives) => alternatives.some((alternative) => matchObject(alternative, object)));
}

function matchField(matcher: Matcher, value: unknown): boolean {
  if (matcher.kind === 'object') {
    // A list of objects matches when one of them does.
    return Array.isArray(value) && value.some(isObject) ? value.some((item) => isObject(item) && matchObject(matcher, item)) : matchObject(matcher, value);
  }
  const leaves = (Array.isArray(value) ? value : [value]).filter(isLeaf);
  if (leaves.length === 0) return matcher.whenAbsent;
  return leaves.some((leaf) => matcher.tests.some((test) => test(leaf)));
}

/* ---------------------------------------------------------------- helpers */

function stringOnly(test: (value: string) => boolean): Test {
  return (leaf) => typeof leaf === 'string' && test(leaf);
}

function finite(value: number, path: string): void {
  if (!Number.isFinite(value) || Math.abs(value) > 5e9) throw new PatternError(`${where(path)}: numbers in patterns lie between -5e9 and 5e9.`);
}

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function where(path: string): string {
  return path === '' ? 'The event pattern' : `The event pattern at ${path}`;
}
