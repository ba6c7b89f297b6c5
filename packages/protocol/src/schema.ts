/**
 * API shapes as runtime values with their TypeScript types derived from them, in the manner of
 * AWS's API models: strings with length and pattern, integers with ranges, enums, lists, maps
 * and structures. One shape serves validation on the server, argument parsing in the CLI and the
 * reference docs. Validation refuses unknown members and names the member at fault.
 */
import { ownValue } from './own.js';

interface Base<T> {
  /** Phantom: carries the TypeScript type. */
  readonly _type?: T;
  readonly doc?: string;
}

export interface StringShape<T extends string = string> extends Base<T> {
  readonly kind: 'string';
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly enum?: readonly T[];
  /** Never echoed in logs or the audit trail. */
  readonly sensitive?: boolean;
}
export interface IntegerShape extends Base<number> {
  readonly kind: 'integer';
  readonly min?: number;
  readonly max?: number;
}
export interface BooleanShape extends Base<boolean> {
  readonly kind: 'boolean';
}
export interface TimestampShape extends Base<number> {
  /** Epoch seconds on the wire, as AWS's JSON protocol sends them. */
  readonly kind: 'timestamp';
}
export interface DocumentShape extends Base<unknown> {
  /** Any JSON value, as AWS's `Document` type (Identity Store's AttributeValue). */
  readonly kind: 'document';
}
export interface ListShape<T = unknown> extends Base<T[]> {
  readonly kind: 'list';
  readonly member: AnyShape;
  readonly min?: number;
  readonly max?: number;
}
export interface MapShape<T = unknown> extends Base<Record<string, T>> {
  readonly kind: 'map';
  readonly key: StringShape;
  readonly value: AnyShape;
  readonly max?: number;
}
export type Members = Readonly<Record<string, { readonly shape: AnyShape; readonly required: boolean }>>;
export interface StructureShape<T = unknown> extends Base<T> {
  readonly kind: 'structure';
  readonly members: Members;
}

/** Any shape; the member types are carried by each builder's result. */
export type AnyShape =
  | StringShape
  | IntegerShape
  | BooleanShape
  | TimestampShape
  | DocumentShape
  | ListShape
  | MapShape
  | StructureShape;

export type TypeOf<S> = S extends Base<infer T> ? T : never;

type Optional<T> = { readonly shape: T; readonly required: false };
type Required<T> = { readonly shape: T; readonly required: true };
type MemberSpec = Optional<AnyShape> | Required<AnyShape>;

type StructType<M extends Record<string, MemberSpec>> = {
  -readonly [K in keyof M as M[K] extends Required<AnyShape> ? K : never]: TypeOf<M[K]['shape']>;
} & {
  -readonly [K in keyof M as M[K] extends Required<AnyShape> ? never : K]?: TypeOf<M[K]['shape']>;
};

export const s = {
  string: (options: Omit<StringShape, 'kind' | '_type'> = {}): StringShape => ({ kind: 'string', ...options }),
  enum: <const T extends string>(values: readonly T[], doc?: string): StringShape<T> => ({
    kind: 'string',
    enum: values,
    ...(doc === undefined ? {} : { doc }),
  }),
  integer: (options: Omit<IntegerShape, 'kind' | '_type'> = {}): IntegerShape => ({ kind: 'integer', ...options }),
  boolean: (doc?: string): BooleanShape => ({ kind: 'boolean', ...(doc === undefined ? {} : { doc }) }),
  timestamp: (doc?: string): TimestampShape => ({ kind: 'timestamp', ...(doc === undefined ? {} : { doc }) }),
  document: (doc?: string): DocumentShape => ({ kind: 'document', ...(doc === undefined ? {} : { doc }) }),
  list: <S extends AnyShape>(member: S, options: { min?: number; max?: number; doc?: string } = {}): ListShape<TypeOf<S>> => ({
    kind: 'list',
    member,
    ...options,
  }),
  map: <S extends AnyShape>(key: StringShape, value: S, options: { max?: number; doc?: string } = {}): MapShape<TypeOf<S>> => ({
    kind: 'map',
    key,
    value,
    ...options,
  }),
  struct: <M extends Record<string, MemberSpec>>(members: M, doc?: string): StructureShape<StructType<M>> => ({
    kind: 'structure',
    members,
    ...(doc === undefined ? {} : { doc }),
  }),
  required: <S extends AnyShape>(shape: S): Required<S> => ({ shape, required: true }),
  optional: <S extends AnyShape>(shape: S): Optional<S> => ({ shape, required: false }),
};

export interface ValidationProblem {
  /** The member at fault, in the API's own names: `Emails[0].Value`. */
  readonly path: string;
  readonly message: string;
}

/** Checks a decoded JSON value against a shape. Returns the problems; empty means valid. */
export function validate(shape: AnyShape, value: unknown, path = ''): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  check(shape, value, path, problems);
  return problems;
}

const at = (path: string): string => (path === '' ? 'the request' : path);

function check(shape: AnyShape, value: unknown, path: string, problems: ValidationProblem[]): void {
  const fail = (message: string): void => {
    problems.push({ path, message: `${at(path)} ${message}` });
  };
  switch (shape.kind) {
    case 'string': {
      if (typeof value !== 'string') { fail(`must be a string, not ${kindOf(value)}.`); return; }
      if (shape.enum !== undefined && !shape.enum.includes(value)) { fail(`must be one of ${shape.enum.join(', ')}.`); return; }
      if (shape.min !== undefined && value.length < shape.min) { fail(`must have at least ${shape.min} character${shape.min === 1 ? '' : 's'}.`); return; }
      if (shape.max !== undefined && value.length > shape.max) { fail(`must have at most ${shape.max} characters.`); return; }
      // The pattern as AWS shows it, then what it means in words where the schema says.
      if (shape.pattern !== undefined && !shape.pattern.test(value)) { fail(`must match ${shape.pattern.source}${shape.doc === undefined ? '' : ` (${shape.doc.replace(/\.$/, '')})`}.`); return; }
      return;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) { fail(`must be an integer, not ${kindOf(value)}.`); return; }
      if (shape.min !== undefined && value < shape.min) { fail(`must be at least ${shape.min}.`); return; }
      if (shape.max !== undefined && value > shape.max) { fail(`must be at most ${shape.max}.`); return; }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`must be true or false, not ${kindOf(value)}.`);
      return;
    case 'timestamp':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`must be a time in epoch seconds, not ${kindOf(value)}.`);
      return;
    case 'document':
      return;
    case 'list': {
      if (!Array.isArray(value)) { fail(`must be a list, not ${kindOf(value)}.`); return; }
      if (shape.min !== undefined && value.length < shape.min) { fail(`must have at least ${shape.min} item${shape.min === 1 ? '' : 's'}.`); return; }
      if (shape.max !== undefined && value.length > shape.max) { fail(`must have at most ${shape.max} item${shape.max === 1 ? '' : 's'}.`); return; }
      value.forEach((item, index) => {
        check(shape.member, item, `${path}[${index}]`, problems);
      });
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) { fail(`must be an object, not ${kindOf(value)}.`); return; }
      const entries = Object.entries(value);
      if (shape.max !== undefined && entries.length > shape.max) { fail(`must have at most ${shape.max} ${shape.max === 1 ? 'entry' : 'entries'}.`); return; }
      for (const [key, item] of entries) {
        check(shape.key, key, `${path}.key(${JSON.stringify(key)})`, problems);
        check(shape.value, item, `${path}[${JSON.stringify(key)}]`, problems);
      }
      return;
    }
    case 'structure': {
      if (!isPlainObject(value)) { fail(`must be an object, not ${kindOf(value)}.`); return; }
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(shape.members, key)) {
          const near = Object.keys(shape.members).find((name) => name.toLowerCase() === key.toLowerCase());
          const hint = near === undefined ? ` Known fields: ${Object.keys(shape.members).join(', ') || 'none'}.` : ` Did you mean ${near}?`;
          problems.push({ path: join(path, key), message: `${join(path, key)} is not a field of ${at(path)}.${hint}` });
        }
      }
      for (const [name, member] of Object.entries(shape.members)) {
        const item = value[name];
        if (item === undefined || item === null) {
          if (member.required) problems.push({ path: join(path, name), message: `${join(path, name)} is required.` });
          continue;
        }
        check(member.shape, item, join(path, name), problems);
      }
      return;
    }
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  // String, not JSON.stringify: 1e400 arrives as Infinity, which JSON would show as null.
  if (typeof value === 'number') return `the number ${String(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** What the audit trail shows in place of a secret, as CloudTrail words it. */
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

/** A copy of a value with every sensitive string and every unknown field replaced, for logs and the audit trail. */
export function redact(shape: AnyShape, value: unknown): unknown {
  switch (shape.kind) {
    case 'string':
      return shape.sensitive === true && typeof value === 'string' ? HIDDEN : value;
    case 'list':
      return Array.isArray(value) ? value.map((item) => redact(shape.member, item)) : value;
    case 'map':
      return isPlainObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(shape.value, v)])) : value;
    case 'structure':
      if (!isPlainObject(value)) return value;
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => {
          const member = ownValue(shape.members, k);
          // A field the schema does not know (a refused request) may be anything, a password too.
          return [k, member === undefined ? HIDDEN : redact(member.shape, v)];
        }),
      );
    default:
      return value;
  }
}
