/**
 * Several nodes: a session that moved off a node (takeover.ts) has its record in segments, one
 * per node that carried it, each hash-chained on its own. A carrier done with the session (it
 * ended there, the node let it go, or the node found at its start that the session had moved
 * away while it was down) seals its segment in the audit trail and hands it to the database in
 * parts, then removes its file. Once every carrier's segment is there and the session has
 * ended, the record is delivered from them merged (recording.ts): a frame sent again after a
 * move is in two segments and counts once (by its direction and number).
 */
import { readFile, rm, stat } from 'node:fs/promises';
import type { AuditTrail } from '../audit/trail.js';
import type { Db } from '../storage/db.js';
import type { SessionsTable } from '../storage/schema.js';
import { parseRecord, recordPath, type ReadRecord, type RecordEntry } from './record.js';
import { sealRecord } from './record-seal.js';
import { carriersOf } from './takeover.js';

/** Bytes of a segment per row. */
const PART_BYTES = 4 * 1024 * 1024;

export interface SegmentDeps {
  readonly db: Db;
  readonly audit: AuditTrail;
  readonly dataDir: string;
  /** This node's name. */
  readonly node: string;
  readonly now: () => number;
}

/** A node's segment of a session as handed over (the bytes of its record file). */
async function storedSegment(db: Db, sessionId: string, node: string): Promise<Buffer> {
  const parts = await db.selectFrom('record_segments').select('body').where('session_id', '=', sessionId).where('node_id', '=', node).orderBy('part').execute();
  return Buffer.concat(parts.map((part) => Buffer.from(part.body, 'base64')));
}

/** A record file's bytes; none when there is no file. */
async function fileBytes(path: string): Promise<Buffer> {
  return readFile(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw error;
  });
}

/**
 * This node's segment of a moved session as one chain: what it handed over before (it carried
 * the session before), then its file, whose entries continue that chain. Without both, the bytes
 * read whole; a file is not counted twice (see below).
 */
async function segmentBytes(db: Db, dataDir: string, sessionId: string, node: string): Promise<Buffer> {
  const local = await fileBytes(recordPath(dataDir, sessionId));
  const earlier = await storedSegment(db, sessionId, node);
  const fresh = local.subarray(0, local.length - parseRecord(local).tornBytes);
  // Handed over already (a stop between the database and the removal of the file): not twice.
  return fresh.length > 0 && fresh.length <= earlier.length && earlier.subarray(earlier.length - fresh.length).equals(fresh) ? earlier : Buffer.concat([earlier, fresh]);
}

/** This node's segment of a moved session so far, read (what a revived or taken-back session goes on from). */
export async function segmentHere(db: Db, dataDir: string, sessionId: string, node: string): Promise<ReadRecord> {
  return parseRecord(await segmentBytes(db, dataDir, sessionId, node));
}

/** Seals this node's segment of a moved session and hands it to the database; its file goes. */
export async function handOverSegment(deps: SegmentDeps, sessionId: string): Promise<void> {
  const path = recordPath(deps.dataDir, sessionId);
  const whole = await segmentBytes(deps.db, deps.dataDir, sessionId, deps.node);
  const read = parseRecord(whole);
  await sealRecord(deps.audit, sessionId, { chainHead: read.head.toString('hex'), entries: read.entries.length, node: deps.node }, deps.now());
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('record_segments').where('session_id', '=', sessionId).where('node_id', '=', deps.node).execute();
    for (let part = 0; part === 0 || part * PART_BYTES < whole.length; part++) {
      const body = whole.subarray(part * PART_BYTES, (part + 1) * PART_BYTES).toString('base64');
      await trx.insertInto('record_segments').values({ session_id: sessionId, node_id: deps.node, part, body }).execute();
    }
  });
  await rm(path, { force: true });
}

/**
 * At a node's start: the moved sessions it carried before and has not handed its segment of
 * over (it was down when they moved), and those that ended here before it could. Their ids,
 * handed over.
 */
export async function handOverLeftBehind(deps: SegmentDeps): Promise<string[]> {
  // Once delivered, every carrier's segment was in: only the undelivered can have one left behind.
  const moved = await deps.db.selectFrom('sessions').select(['session_id', 'node_id', 'carriers', 'status']).where('carriers', 'is not', null).where('segments_delivered_at', 'is', null).execute();
  // Moved off this node; or ended here with its segment not handed over (a stop in between).
  const ended = (status: string): boolean => status === 'Terminated' || status === 'Failed';
  const mine = moved.filter((row) => (row.node_id === deps.node ? ended(row.status) : carriersOf(row).includes(deps.node)));
  const handed: string[] = [];
  for (const { session_id: sessionId } of mine) {
    const here = await stat(recordPath(deps.dataDir, sessionId)).then(
      () => true,
      () => false,
    );
    if (!here) continue;
    await handOverSegment(deps, sessionId);
    handed.push(sessionId);
  }
  return handed;
}

/** Moved sessions that ended and whose record is not delivered yet (a node that claimed it failed): each start tries again. */
export async function undeliveredMoved(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('sessions').select('session_id').where('carriers', 'is not', null).where('segments_delivered_at', 'is', null).where('status', 'in', ['Terminated', 'Failed']).execute();
  return rows.map((row) => row.session_id);
}

export interface SegmentedRecord {
  /** Every carrier's segment as read, in the order they carried the session. */
  readonly segments: readonly { readonly node: string; readonly read: ReadRecord }[];
  /** Carriers whose segment is not handed over yet. */
  readonly missing: readonly string[];
  /** The entries of all segments, each frame once, in time order. */
  readonly entries: readonly RecordEntry[];
}

/** A moved session's record from the segments handed over (and `local`, this node's not yet handed over). */
export async function segmentedRecord(db: Db, row: SessionsTable, local?: { node: string; read: ReadRecord }): Promise<SegmentedRecord> {
  const carriers = [...new Set([...carriersOf(row), row.node_id])];
  const segments: { node: string; read: ReadRecord }[] = [];
  const missing: string[] = [];
  for (const node of carriers) {
    const bytes = await storedSegment(db, row.session_id, node);
    if (bytes.length > 0 || (await db.selectFrom('record_segments').select('part').where('session_id', '=', row.session_id).where('node_id', '=', node).executeTakeFirst()) !== undefined) {
      segments.push({ node, read: parseRecord(bytes) });
    } else if (local?.node === node && local.read.entries.length > 0) segments.push(local);
    else missing.push(node);
  }
  return { segments, missing, entries: mergeSegments(segments.map((segment) => segment.read.entries)) };
}

/** Entries of several segments, each frame once (its direction and number), in time order. */
export function mergeSegments(segments: readonly (readonly RecordEntry[])[]): RecordEntry[] {
  const seen = new Set<string>();
  const merged: RecordEntry[] = [];
  for (const entries of segments) {
    for (const entry of entries) {
      const key = `${entry.direction}:${entry.inSeq}`;
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(entry);
    }
  }
  return merged.sort((x, y) => x.time - y.time);
}
