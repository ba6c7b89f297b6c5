/**
 * Checks a session's record against itself and against its seal: every entry chains to the one
 * before (an edited entry breaks the chain there), and the chain head and entry count equal what
 * the audit trail recorded when the session ended (entries cut off or added afterwards show). A
 * session that moved between nodes is checked segment by segment, each against its node's seal.
 */
import type { Db } from '../storage/db.js';
import { readRecord, recordPath, type ReadRecord, type RecordEntry } from './record.js';
import { sealsOf, type Seal } from './record-seal.js';
import { segmentedRecord } from './record-segments.js';

/** `node`: the problem is in that node's segment of a moved session. */
export type RecordProblem = (
  | { readonly kind: 'missing' }
  | { readonly kind: 'broken'; readonly entry: number }
  | { readonly kind: 'torn'; readonly bytes: number }
  | { readonly kind: 'unsealed' }
  | { readonly kind: 'head'; readonly sealed: string; readonly found: string }
  | { readonly kind: 'count'; readonly sealed: number; readonly found: number }
) & { readonly node?: string };

export interface RecordVerification {
  readonly entries: number;
  /** The record's entries as read (what the delivered copies are checked against). */
  readonly recorded: readonly RecordEntry[];
  readonly head: string;
  readonly problems: readonly RecordProblem[];
}

/** A record (or segment) against its chain and its seal. */
function check(read: ReadRecord, seal: Seal | undefined): RecordProblem[] {
  const head = read.head.toString('hex');
  const problems: RecordProblem[] = [];
  if (read.brokenAt !== undefined) problems.push({ kind: 'broken', entry: read.brokenAt });
  if (read.tornBytes > 0) problems.push({ kind: 'torn', bytes: read.tornBytes });
  if (seal === undefined) problems.push({ kind: 'unsealed' });
  else {
    if (seal.chainHead !== head) problems.push({ kind: 'head', sealed: seal.chainHead, found: head });
    if (seal.entries !== read.entries.length) problems.push({ kind: 'count', sealed: seal.entries, found: read.entries.length });
  }
  return problems;
}

export async function verifySessionRecord(db: Db, dataDir: string, sessionId: string): Promise<RecordVerification> {
  const seals = await sealsOf(db, sessionId);
  const row = await db.selectFrom('sessions').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
  if (row?.carriers != null) {
    const record = await segmentedRecord(db, row);
    const problems: RecordProblem[] = record.missing.map((node) => ({ kind: 'missing', node }));
    for (const { node, read } of record.segments) {
      const seal = seals.filter((each) => each.node === node).at(-1);
      problems.push(...check(read, seal).map((problem) => ({ ...problem, node })));
    }
    const heads = record.segments.map(({ node, read }) => `${node}:${read.head.toString('hex')}`).join(' ');
    return { entries: record.entries.length, recorded: record.entries, head: heads, problems };
  }
  const read = await readRecord(recordPath(dataDir, sessionId));
  const empty: RecordProblem[] = read.entries.length === 0 && read.tornBytes === 0 ? [{ kind: 'missing' }] : [];
  const problems = [...empty, ...check(read, seals.find((seal) => seal.node === undefined))];
  return { entries: read.entries.length, recorded: read.entries, head: read.head.toString('hex'), problems };
}

export function describeRecordProblem(problem: RecordProblem): string {
  const where = problem.node === undefined ? '' : `node ${problem.node}'s segment: `;
  return where + describe(problem);
}

function describe(problem: RecordProblem): string {
  switch (problem.kind) {
    case 'missing':
      return problem.node === undefined ? 'there is no record of this session in this data directory' : 'not handed over yet (that node has not been back since the session moved)';
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
