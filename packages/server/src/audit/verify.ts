/**
 * Verifying the audit trail's hash chain, reading it in pages of seq order (the whole trail is
 * never in memory). Each record is checked against its own hash, its seq against the one before
 * (no gap), its prev_hash against the hash before (an unbroken link), and its index columns
 * against its record. A record whose hash fits its contents at another record's position was
 * moved there: reordered.
 */
import type { Db } from '../storage/db.js';
import type { AuditEventsTable } from '../storage/schema.js';
import { chainHash, field, GENESIS_HASH, identityColumns } from './chain.js';

export type TrailProblemKind = 'edited' | 'deleted (gap before)' | 'reordered' | 'broken link';

export interface TrailProblem {
  readonly seq: number;
  readonly eventID: string;
  readonly problem: TrailProblemKind;
}

export type TrailVerification =
  | { readonly ok: true; readonly records: number; readonly head: { readonly seq: number; readonly hash: string } | undefined }
  | { readonly ok: false; readonly records: number; readonly problems: readonly TrailProblem[] };

export const PROBLEM_DESCRIPTIONS: Readonly<Record<TrailProblemKind, string>> = {
  edited: 'its contents do not match its hash, or its index columns do not match its contents',
  'deleted (gap before)': 'the record or records numbered before it are missing',
  reordered: 'its contents and hash belong at another position in the trail',
  'broken link': 'its prev_hash is not the hash of the record before it: one of the two was rewritten',
};

const PAGE = 1000;
/** Rows with a wrong hash are compared pairwise to find moves; past this many, they are edits. */
const MAX_MOVE_CHECKS = 500;

interface Suspect {
  readonly seq: number;
  readonly eventID: string;
  readonly prevHash: string;
  readonly hash: string;
  /** The parsed record; undefined when it is not JSON. */
  readonly record: unknown;
}

type Row = Pick<
  AuditEventsTable,
  'seq' | 'prev_hash' | 'hash' | 'record' | 'event_id' | 'event_time' | 'event_name' | 'event_source' | 'read_only' | 'user_name' | 'access_key_id'
>;

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Whether the columns LookupEvents searches say what the record says. */
function columnsMatch(row: Row, record: unknown): boolean {
  const identity = identityColumns(record);
  const eventTime = field(record, 'eventTime');
  return (
    row.event_id === field(record, 'eventID') &&
    row.event_name === field(record, 'eventName') &&
    row.event_source === field(record, 'eventSource') &&
    typeof eventTime === 'string' &&
    row.event_time === Date.parse(eventTime) &&
    row.read_only === (field(record, 'readOnly') === true ? 1 : 0) &&
    row.user_name === identity.user_name &&
    row.access_key_id === identity.access_key_id
  );
}

export async function verifyTrail(db: Db): Promise<TrailVerification> {
  const problems: TrailProblem[] = [];
  const suspects: Suspect[] = [];
  let records = 0;
  let previous: { seq: number; hash: string; flagged: boolean } | undefined;
  let after = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const rows = await db
      .selectFrom('audit_events')
      .select(['seq', 'prev_hash', 'hash', 'record', 'event_id', 'event_time', 'event_name', 'event_source', 'read_only', 'user_name', 'access_key_id'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      records++;
      const record = parse(row.record);
      const named = field(record, 'eventID');
      const eventID = typeof named === 'string' ? named : row.event_id;
      const gap = row.seq !== (previous === undefined ? 1 : previous.seq + 1);
      if (gap) problems.push({ seq: row.seq, eventID, problem: 'deleted (gap before)' });
      let flagged = false;
      if (record === undefined || chainHash(row.seq, row.prev_hash, record) !== row.hash) {
        suspects.push({ seq: row.seq, eventID, prevHash: row.prev_hash, hash: row.hash, record });
        flagged = true;
      } else if (!columnsMatch(row, record)) {
        problems.push({ seq: row.seq, eventID, problem: 'edited' });
        flagged = true;
      }
      // A link into or out of a record already named is explained by it; after a gap, the
      // link is to the missing record.
      const expectedPrev = previous === undefined ? GENESIS_HASH : previous.hash;
      if (!gap && !flagged && previous?.flagged !== true && row.prev_hash !== expectedPrev) {
        problems.push({ seq: row.seq, eventID, problem: 'broken link' });
      }
      previous = { seq: row.seq, hash: row.hash, flagged };
    }
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < PAGE) break;
    after = last.seq;
  }
  problems.push(...classify(suspects));
  if (problems.length === 0) return { ok: true, records, head: previous === undefined ? undefined : { seq: previous.seq, hash: previous.hash } };
  const order = (problem: TrailProblem): number => (problem.problem === 'deleted (gap before)' ? 0 : 1);
  problems.sort((a, b) => a.seq - b.seq || order(a) - order(b));
  return { ok: false, records, problems };
}

/** A record whose contents hash right at another suspect's position was moved: reordered. */
function classify(suspects: readonly Suspect[]): TrailProblem[] {
  const checkMoves = suspects.length <= MAX_MOVE_CHECKS;
  return suspects.map((suspect) => {
    const moved =
      checkMoves &&
      suspect.record !== undefined &&
      suspects.some(
        (other) =>
          other.seq !== suspect.seq &&
          // The whole row moved (its prev_hash with it), or only its record and hash did.
          (chainHash(other.seq, suspect.prevHash, suspect.record) === suspect.hash || chainHash(other.seq, other.prevHash, suspect.record) === suspect.hash),
      );
    return { seq: suspect.seq, eventID: suspect.eventID, problem: moved ? 'reordered' : 'edited' };
  });
}
