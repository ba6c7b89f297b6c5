/**
 * A record's seal: its chain head and entry count in the audit trail (SealSessionRecord), written
 * when the record is complete, so a later edit, cut or addition shows (verify-record.ts). A
 * session that moved between nodes has a seal per segment, each naming its node.
 */
import { randomUUID } from 'node:crypto';
import type { AuditTrail } from '../audit/trail.js';
import { ANONYMOUS } from '../identity/principal.js';
import type { Db } from '../storage/db.js';

export interface Seal {
  readonly chainHead: string;
  readonly entries: number;
  /** The node whose segment it seals (a moved session's); absent for a whole record. */
  readonly node?: string;
}

export async function sealRecord(audit: AuditTrail, sessionId: string, seal: Seal, time: number): Promise<void> {
  await audit.record({
    service: 'ssm',
    operation: 'SealSessionRecord',
    readOnly: false,
    principal: ANONYMOUS,
    sourceIp: '',
    userAgent: 'airlock-server',
    requestId: randomUUID(),
    time,
    requestParameters: { sessionId },
    responseElements: { ...seal },
  });
}

/** The seals the audit trail holds for a session, oldest first. */
export async function sealsOf(db: Db, sessionId: string): Promise<Seal[]> {
  const rows = await db.selectFrom('audit_events').select('record').where('event_name', '=', 'SealSessionRecord').where('record', 'like', `%${sessionId}%`).orderBy('seq').execute();
  const seals: Seal[] = [];
  for (const row of rows) {
    const record = JSON.parse(row.record) as { requestParameters?: { sessionId?: string }; responseElements?: Partial<Seal> };
    const seal = record.responseElements;
    if (record.requestParameters?.sessionId !== sessionId || typeof seal?.chainHead !== 'string' || typeof seal.entries !== 'number') continue;
    seals.push({ chainHead: seal.chainHead, entries: seal.entries, ...(typeof seal.node === 'string' ? { node: seal.node } : {}) });
  }
  return seals;
}
