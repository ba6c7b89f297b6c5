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
      const value = canonicalBase64(source);
      if (value === undefined) return { error: `BinaryEquals needs base64 text, not "${source}"` };
      return { matcher: { source, test: (request) => canonicalBase64(request) === value } };
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
  const matcher: ValueMatcher = ignoreCase
    ? { source, test: (request, vars) => glob.matches(request.toLowerCase(), vars) }
    : { source, test: (request, vars) => glob.matches(request, vars) };
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

const NUMBER = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
const EPOCH_SECONDS = /^\d+$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const TRAILING_PADDING = /=+$/;

export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** ISO 8601 or epoch seconds, as milliseconds since the epoch. */
export function parseDate(text: string): number | undefined {
  if (EPOCH_SECONDS.test(text)) return Number(text) * 1000;
  if (!ISO_DATE.test(text)) return undefined;
  const value = Date.parse(text);
  return Number.isNaN(value) ? undefined : value;
}

function canonicalBase64(text: string): string | undefined {
  if (!BASE64.test(text) || text.length % 4 === 1) return undefined;
  return text.replace(TRAILING_PADDING, '');
}
