/**
 * SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON as GET shows it; the result is then
 * stored like a PUT, so one code path checks and saves every change. Paths: `attr`,
 * `attr.sub`, `attr[sub eq "v"]` and `attr[sub eq "v"].sub`; no path: the value is an object of
 * attributes. Attribute names and `op` are compared without case (Azure AD sends "Replace"),
 * and "True"/"False" strings are taken as booleans for boolean attributes (Azure AD again).
 */
import { invalidValue, ScimError } from './errors.js';
import { parseEqualityFilter, type EqualityFilter } from './filter.js';

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const MAX_OPERATIONS = 1000;

type Json = Record<string, unknown>;
type Op = 'add' | 'replace' | 'remove';

interface Path {
  readonly attribute: string;
  readonly filter?: EqualityFilter;
  readonly sub?: string;
}

const PATH = /^([A-Za-z][\w-]*)(?:\[(.+)\])?(?:\.([A-Za-z][\w-]*))?$/;

/**
 * Extension schemas' attributes (e.g. the enterprise extension's department, which Azure AD
 * sends by default) are not kept, as a POST's are not: a PATCH naming them changes nothing.
 */
const isExtension = (path: string): boolean => /^urn:ietf:params:scim:schemas:extension:/i.test(path.trim());

function parsePath(path: string): Path {
  // A path may carry the core schema URN as a prefix ("urn:…:User:userName"); drop it.
  const bare = path.replace(/^urn:ietf:params:scim:schemas:core:2\.0:(User|Group):/i, '');
  const match = PATH.exec(bare.trim());
  const attribute = match?.[1];
  if (attribute === undefined) throw new ScimError(400, `The path ${JSON.stringify(path)} is not one Airlock supports: attr, attr.sub, attr[sub eq "v"] or attr[sub eq "v"].sub.`, 'invalidPath');
  const filter = match?.[2];
  const sub = match?.[3];
  return { attribute, ...(filter === undefined ? {} : { filter: parseEqualityFilter(filter) }), ...(sub === undefined ? {} : { sub }) };
}

/** The key of `target` that names `name` without regard to case, or `name` itself. */
function keyOf(target: Json, name: string): string {
  return Object.keys(target).find((key) => key.toLowerCase() === name.toLowerCase()) ?? name;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function matches(item: unknown, filter: EqualityFilter): boolean {
  if (!isObject(item)) return false;
  const value = item[keyOf(item, filter.attribute)];
  return typeof value === 'string' ? value.toLowerCase() === filter.value.toLowerCase() : String(value) === filter.value;
}

/** Two members of a multi-valued attribute are the same when their `value`s are. */
function sameItem(a: unknown, b: unknown): boolean {
  if (isObject(a) && isObject(b) && 'value' in a && 'value' in b) return a['value'] === b['value'];
  return JSON.stringify(a) === JSON.stringify(b);
}

function addTo(target: Json, key: string, value: unknown, op: Op): void {
  const current: unknown = target[key];
  if (op === 'add' && Array.isArray(current)) {
    const existing = current as unknown[];
    const additions = Array.isArray(value) ? (value as unknown[]) : [value];
    target[key] = [...existing, ...additions.filter((item) => !existing.some((present) => sameItem(present, item)))];
  } else if (isObject(current) && isObject(value)) {
    // A complex attribute's sub-attributes not given stay as they were (§3.5.2.1, §3.5.2.3).
    target[key] = { ...current, ...value };
  } else {
    target[key] = value;
  }
}

function applyAt(resource: Json, op: Op, path: Path, value: unknown): void {
  const key = keyOf(resource, path.attribute);
  if (path.filter !== undefined) {
    const list = resource[key];
    const items = Array.isArray(list) ? (list as unknown[]) : [];
    const selected = items.filter((item) => matches(item, path.filter as EqualityFilter));
    if (op === 'remove') {
      resource[key] = path.sub === undefined ? items.filter((item) => !selected.includes(item)) : items.map((item) => (selected.includes(item) && isObject(item) ? withoutKey(item, path.sub as string) : item));
      return;
    }
    if (selected.length === 0) {
      if (op === 'replace' && path.sub === undefined) throw new ScimError(400, `No ${path.attribute} matches ${path.filter.attribute} eq "${path.filter.value}".`, 'noTarget');
      // add (or replace of a sub-attribute) on no match: the entry the filter describes, made.
      const made: Json = { [path.filter.attribute]: path.filter.value, ...(path.sub === undefined ? (isObject(value) ? value : {}) : { [path.sub]: value }) };
      resource[key] = [...items, made];
      return;
    }
    resource[key] = items.map((item) => {
      if (!selected.includes(item) || !isObject(item)) return item;
      if (path.sub === undefined) return isObject(value) ? { ...item, ...value } : item;
      return { ...item, [keyOf(item, path.sub)]: value };
    });
    return;
  }
  if (path.sub !== undefined) {
    const before = resource[key];
    const parent: Json = isObject(before) ? { ...before } : {};
    if (op === 'remove') resource[key] = withoutKey(parent, path.sub);
    else {
      parent[keyOf(parent, path.sub)] = value;
      resource[key] = parent;
    }
    return;
  }
  if (op === 'remove') {
    const current = resource[key];
    // Azure AD removes members by listing them in the value.
    if (Array.isArray(current) && Array.isArray(value)) resource[key] = current.filter((item) => !(value as unknown[]).some((gone) => sameItem(item, gone)));
    else Reflect.deleteProperty(resource, key);
    return;
  }
  addTo(resource, key, value, op);
}

function withoutKey(target: Json, name: string): Json {
  const copy = { ...target };
  Reflect.deleteProperty(copy, keyOf(copy, name));
  return copy;
}

function opOf(value: unknown): Op {
  const op = typeof value === 'string' ? value.toLowerCase() : '';
  if (op === 'add' || op === 'replace' || op === 'remove') return op;
  throw invalidValue(`Each operation's op must be add, replace or remove, not ${JSON.stringify(value)}.`);
}

/** The resource after the PATCH request's operations, in order; the input is not modified. */
export function applyPatch(resource: Json, body: unknown): Json {
  if (!isObject(body) || !Array.isArray(body['schemas']) || !(body['schemas'] as unknown[]).includes(PATCH_SCHEMA)) {
    throw new ScimError(400, `A PATCH body has schemas ["${PATCH_SCHEMA}"] and Operations.`, 'invalidSyntax');
  }
  const operations = body['Operations'] ?? body[keyOf(body, 'operations')];
  if (!Array.isArray(operations) || operations.length === 0) throw new ScimError(400, 'Operations must be a non-empty list.', 'invalidSyntax');
  if (operations.length > MAX_OPERATIONS) throw new ScimError(400, `At most ${MAX_OPERATIONS} operations per PATCH.`, 'tooMany');
  const result = structuredClone(resource);
  for (const operation of operations as unknown[]) {
    if (!isObject(operation)) throw new ScimError(400, 'Each operation is an object with op, path and value.', 'invalidSyntax');
    const op = opOf(operation[keyOf(operation, 'op')]);
    const path = operation[keyOf(operation, 'path')];
    const value = operation[keyOf(operation, 'value')];
    if (path === undefined || path === '') {
      if (op === 'remove') throw new ScimError(400, 'remove needs a path.', 'noTarget');
      if (!isObject(value)) throw invalidValue(`${op} without a path needs an object of attributes as its value.`);
      for (const [name, item] of Object.entries(value)) if (!isExtension(name)) applyAt(result, op, parsePath(name), item);
      continue;
    }
    if (typeof path !== 'string') throw new ScimError(400, 'path must be a string.', 'invalidPath');
    if (op !== 'remove' && value === undefined) throw invalidValue(`${op} ${path} needs a value.`);
    if (!isExtension(path)) applyAt(result, op, parsePath(path), value);
  }
  return result;
}

/** A boolean attribute as providers send it: true/false, or (Azure AD) "True"/"False". */
export function booleanOf(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalidValue(`${name} must be true or false, not ${JSON.stringify(value)}.`);
}
