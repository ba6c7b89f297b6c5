/**
 * Condition operators: their names, how each reads its policy values, and how a request value
 * is compared with them. Every policy value is compiled once; comparing allocates nothing
 * unless the value holds a policy variable.
 */
import { ArnPattern, splitArn } from './arn.js';
import { Glob } from './glob.js';
import { cidrContains, parseCidr, parseIp } from './ip.js';
import { hasWildcards, parseTemplate, type VariableSource } from './template.js';

export type OperatorFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';
type Comparison = 'equals' | 'equalsIgnoreCase' | 'like' | 'lessThan' | 'lessThanEquals' | 'greaterThan' | 'greaterThanEquals';

export interface BaseOperator {
  readonly name: string;
  readonly family: OperatorFamily;
  readonly comparison: Comparison;
  /** A negated operator holds when the request value matches none of the policy values. */
  readonly negated: boolean;
}

const op = (name: string, family: OperatorFamily, comparison: Comparison, negated = false): BaseOperator => ({
  name,
  family,
  comparison,
  negated,
});

export const BASE_OPERATORS: readonly BaseOperator[] = [
  op('StringEquals', 'String', 'equals'),
  op('StringNotEquals', 'String', 'equals', true),
  op('StringEqualsIgnoreCase', 'String', 'equalsIgnoreCase'),
  op('StringNotEqualsIgnoreCase', 'String', 'equalsIgnoreCase', true),
  op('StringLike', 'String', 'like'),
  op('StringNotLike', 'String', 'like', true),
  op('NumericEquals', 'Numeric', 'equals'),
  op('NumericNotEquals', 'Numeric', 'equals', true),
  op('NumericLessThan', 'Numeric', 'lessThan'),
  op('NumericLessThanEquals', 'Numeric', 'lessThanEquals'),
  op('NumericGreaterThan', 'Numeric', 'greaterThan'),
  op('NumericGreaterThanEquals', 'Numeric', 'greaterThanEquals'),
  op('DateEquals', 'Date', 'equals'),
  op('DateNotEquals', 'Date', 'equals', true),
  op('DateLessThan', 'Date', 'lessThan'),
  op('DateLessThanEquals', 'Date', 'lessThanEquals'),
  op('DateGreaterThan', 'Date', 'greaterThan'),
  op('DateGreaterThanEquals', 'Date', 'greaterThanEquals'),
  op('Bool', 'Bool', 'equals'),
  op('BinaryEquals', 'Binary', 'equals'),
  op('IpAddress', 'IpAddress', 'equals'),
  op('NotIpAddress', 'IpAddress', 'equals', true),
  op('ArnEquals', 'Arn', 'like'),
  op('ArnNotEquals', 'Arn', 'like', true),
  op('ArnLike', 'Arn', 'like'),
  op('ArnNotLike', 'Arn', 'like', true),
  op('Null', 'Null', 'equals'),
];

const BY_NAME = new Map(BASE_OPERATORS.map((base) => [base.name, base]));
const BY_LOWER_NAME = new Map(BASE_OPERATORS.map((base) => [base.name.toLowerCase(), base]));

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

export interface ConditionOperator {
  readonly text: string;
  readonly base: BaseOperator;
  readonly qualifier: SetQualifier | undefined;
  readonly ifExists: boolean;
}

export type OperatorParse = { readonly operator: ConditionOperator } | { readonly error: string };

/** Reads `ForAllValues:StringLikeIfExists` and the like. Names are case-sensitive, as in IAM. */
export function parseOperator(text: string): OperatorParse {
  let rest = text;
  let qualifier: SetQualifier | undefined;
  for (const candidate of ['ForAnyValue', 'ForAllValues'] as const) {
    if (rest.startsWith(`${candidate}:`)) {
      qualifier = candidate;
      rest = rest.slice(candidate.length + 1);
      // One qualifier at most: ForAnyValue:ForAllValues:StringEquals is no operator.
      break;
    }
  }
  const ifExists = rest.endsWith('IfExists') && rest !== 'IfExists';
  const baseName = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  const base = BY_NAME.get(baseName);
  if (base === undefined) {
    const near = BY_LOWER_NAME.get(baseName.toLowerCase());
    const hint = near === undefined ? '' : ` Did you mean ${near.name}? Operator names are case-sensitive.`;
    return { error: `${text} is not a condition operator.${hint}` };
  }
  if (base.family === 'Null' && ifExists) {
    return { error: 'NullIfExists is not an operator: Null already tests whether the key exists' };
  }
  if (base.family === 'Null' && qualifier !== undefined) {
    return { error: `${qualifier}:Null is not an operator: Null tests whether the key exists, not its values` };
  }
  return { operator: { text, base, qualifier, ifExists } };
}

/** One compiled policy value of a condition. */
export interface ValueMatcher {
  readonly source: string;
  /** Whether one request value stands in the operator's relation to this policy value. */
  test(requestValue: string, variables: VariableSource): boolean;
  /** For string equality with no wildcard or variable: the one text it matches (lower-cased when case is ignored). */
  readonly literal?: string;
}

export type ValueCompile = { readonly matcher: ValueMatcher; readonly warning?: string } | { readonly error: string };

/** `variables`: the document's Version reads `${…}` (only string and ARN values use them). */
export function compileValue(base: BaseOperator, source: string, variables: boolean): ValueCompile {
  switch (base.family) {
    case 'String':
      return compileString(base, source, variables);
    case 'Numeric': {
      const value = parseNumber(source);
      if (value === undefined) return { error: `${base.name} needs a number, not "${source}"` };
      return { matcher: { source, test: (request) => compare(base.comparison, parseNumber(request), value) } };
    }
    case 'Date': {
      const value = parseDate(source);
      if (value === undefined) {
        return { error: `${base.name} needs an ISO 8601 date (2026-01-31T00:00:00Z) or epoch seconds, not "${source}"` };
      }
      return { matcher: { source, test: (request) => compare(base.comparison, parseDate(request), value) } };
    }
    case 'Bool': {
      const value = source.toLowerCase();
      if (value !== 'true' && value !== 'false') return { error: `Bool needs true or false, not "${source}"` };
      return { matcher: { source, test: (request) => request.toLowerCase() === value } };
    }
    case 'Binary': {
      const value = decodeBase64(source);
      if (value === undefined) return { error: `BinaryEquals needs base64 text, not "${source}"` };
      return {
        matcher: {
          source,
          test: (request) => {
            const bytes = decodeBase64(request);
            return bytes !== undefined && bytes.length === value.length && bytes.every((byte, i) => byte === value[i]);
          },
        },
      };
    }
    case 'IpAddress': {
      const block = parseCidr(source);
      if (block === undefined) {
        return { error: `${base.name} needs an IPv4 or IPv6 address or CIDR block (203.0.113.0/24), not "${source}"` };
      }
      return {
        matcher: {
          source,
          test: (request) => {
            const address = parseIp(request);
            return address !== undefined && cidrContains(block, address);
          },
        },
      };
    }
    case 'Arn': {
      const parsed = ArnPattern.parse(source, variables);
      if ('error' in parsed) return { error: `${base.name}: ${parsed.error}` };
      const { pattern } = parsed;
      return { matcher: { source, test: (request, vars) => pattern.matches(splitArn(request), vars) } };
    }
    case 'Null': {
      const value = source.toLowerCase();
      if (value !== 'true' && value !== 'false') {
        return { error: `Null needs true (the key is absent) or false (the key is present), not "${source}"` };
      }
      // Null is decided from the key's presence, in conditions.ts; this matcher is never asked.
      return { matcher: { source: value, test: () => false } };
    }
  }
}

function compileString(base: BaseOperator, source: string, variables: boolean): ValueCompile {
  const like = base.comparison === 'like';
  const ignoreCase = base.comparison === 'equalsIgnoreCase';
  const parsed = parseTemplate(source, { wildcards: like, variables });
  if ('error' in parsed) return { error: parsed.error };
  const glob = new Glob(source, parsed.parts, ignoreCase);
  const texts = parsed.parts.flatMap((part) => (part.kind === 'text' ? [part.text] : []));
  const literal = texts.length === parsed.parts.length ? texts.join('') : undefined;
  const matcher: ValueMatcher = ignoreCase
    ? { source, test: (request, vars) => glob.matches(request.toLowerCase(), vars), ...(literal === undefined ? {} : { literal: literal.toLowerCase() }) }
    : { source, test: (request, vars) => glob.matches(request, vars), ...(literal === undefined ? {} : { literal }) };
  if (like && !hasWildcards(parsed.parts)) {
    return { matcher, warning: `${base.name} value "${source}" has no wildcard; ${base.name.replace('Like', 'Equals')} says the same more plainly` };
  }
  return { matcher };
}

function compare(comparison: Comparison, request: number | undefined, policy: number): boolean {
  if (request === undefined) return false;
  switch (comparison) {
    case 'lessThan':
      return request < policy;
    case 'lessThanEquals':
      return request <= policy;
    case 'greaterThan':
      return request > policy;
    case 'greaterThanEquals':
      return request >= policy;
    default:
      return request === policy;
  }
}

const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const EPOCH_SECONDS = /^\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * ISO 8601 or epoch seconds, as milliseconds since the epoch. A time without a zone is UTC, so a
 * decision never depends on the server's time zone.
 */
export function parseDate(text: string): number | undefined {
  if (EPOCH_SECONDS.test(text)) return Number(text) * 1000;
  if (!ISO_DATE.test(text)) return undefined;
  const value = Date.parse(text.includes('T') && !HAS_ZONE.test(text) ? `${text}Z` : text);
  return Number.isNaN(value) ? undefined : value;
}

/** Strict base64 (padding optional), decoded, so that equal bytes compare equal. */
function decodeBase64(text: string): Uint8Array | undefined {
  const body = text.endsWith('==') ? text.slice(0, -2) : text.endsWith('=') ? text.slice(0, -1) : text;
  if (body.length % 4 === 1 || (body.length !== text.length && text.length % 4 !== 0)) return undefined;
  const bytes = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let buffer = 0;
  let out = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = BASE64_ALPHABET.indexOf(body[i] as string);
    if (digit < 0) return undefined;
    buffer = (buffer << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, or two texts would name the same bytes.
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return bytes;
}
