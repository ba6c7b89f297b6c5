/**
 * Exporting the audit trail as JSON Lines: one record a line, in seq order, the CloudTrail
 * record with its place in the chain (seq, prevHash, hash) added, so that a copy can be checked
 * without the database (chain.ts says how). Read in pages; the output's backpressure is obeyed.
 */
import type { Writable } from 'node:stream';
import type { Db } from '../storage/db.js';

export interface ExportOptions {
  /** Epoch milliseconds: records at or after. */
  readonly since?: number;
  /** Epoch milliseconds: records before. */
  readonly until?: number;
  readonly pageSize?: number;
}

/** The line of one record: seq, prevHash and hash, then the record's own fields. */
export function exportLine(row: { seq: number; prev_hash: string; hash: string; record: string }): string {
  let record: unknown;
  try {
    record = JSON.parse(row.record) as unknown;
  } catch {
    record = undefined;
  }
  const fields = typeof record === 'object' && record !== null && !Array.isArray(record) ? record : { unreadableRecord: row.record };
  return `${JSON.stringify({ seq: row.seq, prevHash: row.prev_hash, hash: row.hash, ...fields })}\n`;
}

/** Resolves when `out` can take more, or never will (closed, failed: see the error listener). */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done).off('close', done).off('error', done);
      resolve();
    };
    out.on('drain', done).on('close', done).on('error', done);
  });
}

/** Writes the records to `out`; returns how many. Rejects when `out` fails (a closed pipe). */
export async function exportTrail(db: Db, out: Writable, options: ExportOptions = {}): Promise<number> {
  const pageSize = options.pageSize ?? 500;
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure ??= error;
  };
  out.on('error', onError);
  try {
    let count = 0;
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      let query = db.selectFrom('audit_events').select(['seq', 'prev_hash', 'hash', 'record']).where('seq', '>', after).orderBy('seq').limit(pageSize);
      if (options.since !== undefined) query = query.where('event_time', '>=', Math.ceil(options.since));
      if (options.until !== undefined) query = query.where('event_time', '<', Math.ceil(options.until));
      const rows = await query.execute();
      for (const row of rows) {
        if (failure !== undefined) throw failure;
        if (!out.write(exportLine(row))) await drained(out);
        count++;
      }
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < pageSize) break;
      after = last.seq;
    }
    if (failure !== undefined) throw failure;
    return count;
  } finally {
    out.off('error', onError);
  }
}
