/**
 * Several nodes: a session whose node died moves to the node its client resumes through. The
 * move is one conditional update of the session's node, made only while the old node is still
 * the carrier and is not alive (stopped, or its heartbeat older than NODE_TTL_MS), so two nodes
 * asked at once cannot both take it, and a node that came back meanwhile keeps it. The new node
 * rebuilds the session from its two ends (broker.ts `adopt`; docs/fleet.md).
 */
import { NODE_TTL_MS } from '../fleet/nodes.js';
import type { Db } from '../storage/db.js';
import type { SessionsTable } from '../storage/schema.js';

/** The session's row as now carried by `node`; undefined when it was not taken (its node lives, it ended, or another node took it first). */
export async function takeOver(db: Db, row: SessionsTable, node: string, now: number): Promise<SessionsTable | undefined> {
  // The old node joins the carriers, whose record segments make up the session's (record-segments.ts).
  const carriers = JSON.stringify([...carriersOf(row), row.node_id]);
  const result = await db
    .updateTable('sessions')
    .set({ node_id: node, status: 'Disconnected', carriers })
    .where('session_id', '=', row.session_id)
    .where('node_id', '=', row.node_id)
    .where((eb) => (row.carriers === null ? eb('carriers', 'is', null) : eb('carriers', '=', row.carriers)))
    .where('status', 'in', ['Connecting', 'Connected', 'Disconnected'])
    .where((eb) => eb.not(eb.exists(eb.selectFrom('nodes').select('node_name').where('node_name', '=', row.node_id).where('stopped_at', 'is', null).where('heartbeat_at', '>=', now - NODE_TTL_MS))))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n ? { ...row, node_id: node, status: 'Disconnected', carriers } : undefined;
}

/** The nodes that carried a session before its current one, in order (none: it never moved). */
export function carriersOf(row: Pick<SessionsTable, 'carriers'>): string[] {
  return row.carriers === null ? [] : (JSON.parse(row.carriers) as string[]);
}
