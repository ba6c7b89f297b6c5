/** NextToken for keyset pagination: an opaque wrapper around the last key of the page. */
import { ApiError } from '@airlock/protocol';

export const DEFAULT_PAGE_SIZE = 100;

export function encodeNextToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ after: lastKey })).toString('base64url');
}

export function decodeNextToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the error below
  }
  throw new ApiError('ValidationException', 'NextToken is not a token this operation returned.');
}

/** Cuts one extra row off a query of `size + 1` rows: its presence means there is a next page. */
export function page<T>(rows: readonly T[], size: number, keyOf: (row: T) => string): { items: T[]; nextToken: string | undefined } {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, nextToken: rows.length > size && last !== undefined ? encodeNextToken(keyOf(last)) : undefined };
}
