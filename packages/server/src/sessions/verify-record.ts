/**
 * Checks a session's record against itself and against its seal: every entry chains to the one
 * before (an edited entry breaks the chain there), and the chain head and entry count equal what
 * the audit trail recorded when the session ended (entries cut off or added afterwards show).
 */
import type { Db } from '../storage/db.js';
import { readRecord, recordPath, type RecordEntry } from './record.js';

export type RecordProblem =
  | { readonly kind: 'missing' }
  | { readonly kind: 'broken'; readonly entry: number }
  | { readonly kind: 'torn'; readonly bytes: number }
  | { readonly kind: 'unsealed' }
  | { readonly kind: 'head'; readonly sealed: string; readonly found: string }
  | { readonly kind: 'count'; readonly sealed: number; readonly found: number };

export interface RecordVerification {
  readonly entries: number;
  /** The record's entries as read (what the delivered copies are checked against). */
  readonly recorded: readonly RecordEntry[];
  readonly head: string;
  readonly problems: readonly RecordProblem[];
}

interface Seal {
  readonly chainHead: string;
  readonly entries: number;
}

/** The seal the audit trail holds for the session, if it was sealed. */
async function sealOf(db: Db, sessionId: string): Promise<Seal | undefined> {
  const rows = await db.selectFrom('audit_events').select('record').where('event_name', '=', 'SealSessionRecord').where('record', 'like', `%${sessionId}%`).execute();
  for (const row of rows) {
    const record = JSON.parse(row.record) as { requestParameters?: { sessionId?: string }; responseElements?: Partial<Seal> };
    const seal = record.responseElements;
    if (record.requestParameters?.sessionId === sessionId && typeof seal?.chainHead === 'string' && typeof seal.entries === 'number') return { chainHead: seal.chainHead, entries: seal.entries };
  }
  return undefined;
}

export async function verifySessionRecord(db: Db, dataDir: string, sessionId: string): Promise<RecordVerification> {
  const path = recordPath(dataDir, sessionId);
  const read = await readRecord(path);
  const head = read.head.toString('hex');
  const problems: RecordProblem[] = [];
  if (read.entries.length === 0 && read.tornBytes === 0) problems.push({ kind: 'missing' });
  if (read.brokenAt !== undefined) problems.push({ kind: 'broken', entry: read.brokenAt });
  if (read.tornBytes > 0) problems.push({ kind: 'torn', bytes: read.tornBytes });
  const seal = await sealOf(db, sessionId);
  if (seal === undefined) problems.push({ kind: 'unsealed' });
  else {
    if (seal.chainHead !== head) problems.push({ kind: 'head', sealed: seal.chainHead, found: head });
    if (seal.entries !== read.entries.length) problems.push({ kind: 'count', sealed: seal.entries, found: read.entries.length });
  }
  return { entries: read.entries.length, recorded: read.entries, head, problems };
}

export function describeRecordProblem(problem: RecordProblem): string {
  switch (problem.kind) {
    case 'missing':
      return 'there is no record of this session in this data directory';
    case 'broken':
      return `entry ${problem.entry} does not chain to the one before: it (or the one before) was edited`;
    case 'torn':
      return `the record ends with ${problem.bytes} bytes that are not a whole entry`;
    case 'unsealed':
      return 'the audit trail holds no seal for it: the session is still open, or its server stopped before sealing it';
    case 'head':
      return `its chain head ${problem.found} is not the sealed ${problem.sealed}: entries were cut off, added or changed after the end`;
    case 'count':
      return `it has ${problem.found} entries where the seal counted ${problem.sealed}`;
  }
}
