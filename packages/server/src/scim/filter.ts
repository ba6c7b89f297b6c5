/**
 * The filters SCIM clients send to find a resource before creating it (RFC 7644 §3.4.2.2):
 * one attribute, `eq`, one quoted value, e.g. `userName eq "jdoe"`. That is all identity
 * providers need; anything else is refused with `invalidFilter` rather than misread.
 */
import { ScimError } from './errors.js';

export interface EqualityFilter {
  /** The attribute path as sent (compare it without case, as SCIM's attribute names are). */
  readonly attribute: string;
  readonly value: string;
}

const EQUALITY = /^\s*([A-Za-z][\w.:-]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i;

/** Parses `attr eq "value"`; `value` is the JSON string's content, unescaped. */
export function parseEqualityFilter(filter: string): EqualityFilter {
  const match = EQUALITY.exec(filter);
  const attribute = match?.[1];
  const quoted = match?.[2];
  if (attribute === undefined || quoted === undefined) {
    throw new ScimError(400, `The filter ${JSON.stringify(filter)} is not supported: use one attribute, eq and a quoted value, e.g. userName eq "jdoe".`, 'invalidFilter');
  }
  let value: string;
  try {
    value = JSON.parse(`"${quoted}"`) as string;
  } catch {
    throw new ScimError(400, `The filter's value ${JSON.stringify(quoted)} is not a valid JSON string.`, 'invalidFilter');
  }
  return { attribute, value };
}
