/**
 * Pages of the log store: name prefixes as key ranges (names sort by character codes on both
 * databases), nextToken refused as CloudWatch Logs refuses it, and the batched keyset scan behind
 * GetLogEvents and FilterLogEvents.
 */
import { ApiError, logs as api } from '@airlock/protocol';
import { decodeNextToken } from '../identity/paging.js';

export { encodeNextToken as encodeToken } from '../identity/paging.js';

export const invalidToken = (): ApiError => new ApiError('InvalidParameterException', 'The specified nextToken is invalid.');

export function decodeToken(token: string | undefined): string | undefined {
  try {
    return decodeNextToken(token);
  } catch {
    throw invalidToken();
  }
}

/**
 * The names starting with `prefix` are those from `from` up to, not including, `below` (none:
 * no end): the prefix with its last character's code one higher.
 */
export function prefixRange(prefix: string): { readonly from: string; readonly below: string | undefined } {
  const points: number[] = [];
  for (const char of prefix) points.push(char.codePointAt(0) ?? 0);
  while (points.length > 0) {
    const last = (points.pop() ?? 0) + 1;
    if (last <= 0x10ffff) {
      points.push(last === 0xd800 ? 0xe000 : last);
      return { from: prefix, below: String.fromCodePoint(...points) };
    }
  }
  return { from: prefix, below: undefined };
}

/** Rows read per query while a page fills. */
const BATCH = 1_000;

export interface Scanned<R> {
  /** The rows kept, in the order read. */
  readonly kept: R[];
  /** The last row read and dealt with (kept or not): the next page starts after it. */
  readonly last: R | undefined;
  /** True when rows may remain: the page or the budget filled first. */
  readonly more: boolean;
}

/**
 * Reads rows in key order, a batch at a time (`fetch` gives up to `count` rows after `after`),
 * keeping those `keep` accepts, until `limit` are kept, their messages pass MAX_PAGE_BYTES (never
 * before one is kept), `budget` rows have been read, or the rows run out.
 */
export async function scan<R extends { readonly size: number }>(
  fetch: (after: R | undefined, count: number) => Promise<R[]>,
  options: { readonly limit: number; readonly budget: number; readonly keep?: (row: R) => boolean },
): Promise<Scanned<R>> {
  const kept: R[] = [];
  let bytes = 0;
  let read = 0;
  let last: R | undefined;
  for (;;) {
    const count = Math.min(BATCH, options.budget - read);
    const rows = await fetch(last, count);
    for (const row of rows) {
      if (options.keep === undefined || options.keep(row)) {
        if (kept.length === options.limit || (kept.length > 0 && bytes + row.size > api.MAX_PAGE_BYTES)) return { kept, last, more: true };
        kept.push(row);
        bytes += row.size;
      }
      last = row;
      read++;
    }
    if (rows.length < count) return { kept, last, more: false };
    if (read >= options.budget) return { kept, last, more: true };
  }
}
