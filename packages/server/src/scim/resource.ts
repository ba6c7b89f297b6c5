/** What SCIM's User and Group resources share: JSON access without case, meta, list responses. */
import type { Services } from '../services.js';
import { invalidValue, ScimError } from './errors.js';
import { scimEndpoint } from './tokens.js';

export type Json = Record<string, unknown>;

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An attribute of a SCIM object; names are compared without case (RFC 7643 §2.1). */
export function attribute(source: Json, name: string): unknown {
  const key = Object.keys(source).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : source[key];
}

export function optionalString(source: Json, name: string, max = 1024): string | undefined {
  const value = attribute(source, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > max) throw invalidValue(`${name} must be a string of at most ${max} characters.`);
  return value === '' ? undefined : value;
}

export function requiredString(source: Json, name: string, max = 1024): string {
  const value = optionalString(source, name, max);
  if (value === undefined) throw invalidValue(`${name} is required.`);
  return value;
}

/** The request body as an object, or a SCIM error naming the schema it must carry. */
export function bodyObject(body: unknown, schema: string): Json {
  if (!isObject(body)) throw new ScimError(400, `The body must be a JSON object with schemas ["${schema}"].`, 'invalidSyntax');
  return body;
}

export function meta(services: Services, resourceType: 'User' | 'Group', id: string, created: number, lastModified: number): Json {
  return {
    resourceType,
    created: new Date(created).toISOString(),
    lastModified: new Date(lastModified).toISOString(),
    location: `${scimEndpoint(services)}/${resourceType}s/${id}`,
  };
}

export const MAX_PAGE = 100;

export interface Paging {
  /** 1-based, as SCIM counts. */
  readonly startIndex: number;
  readonly count: number;
}

/** startIndex and count from the query (RFC 7644 §3.4.2.4): a startIndex below 1 is 1, count is capped. */
export function pagingOf(query: Readonly<Record<string, string | undefined>>): Paging {
  const number = (name: string, fallback: number): number => {
    const text = query[name];
    if (text === undefined || text === '') return fallback;
    if (!/^-?\d{1,9}$/.test(text)) throw invalidValue(`${name} must be an integer.`);
    return Number(text);
  };
  return { startIndex: Math.max(1, number('startIndex', 1)), count: Math.min(MAX_PAGE, Math.max(0, number('count', MAX_PAGE))) };
}

export function listResponse(resources: readonly Json[], total: number, paging: Paging): Json {
  return { schemas: [LIST_SCHEMA], totalResults: total, startIndex: paging.startIndex, itemsPerPage: resources.length, Resources: resources };
}
