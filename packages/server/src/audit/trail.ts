/**
 * The audit trail: one CloudTrail-shaped record for every API call, successful or not, with
 * secrets redacted by the operation's own schema. Records are numbered in order (seq) and
 * hash-chained (chain.ts): each stores the hash of the one before and its own, so an edit, a
 * deletion or a reordering shows in `airlock audit verify` (verify.ts).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresAdapter, sql } from 'kysely';
import { assumedRoleArn, type Principal } from '../identity/principal.js';
import type { Db } from '../storage/db.js';
import { chainHash, GENESIS_HASH, identityColumns } from './chain.js';
import { resourcesOf } from './resources.js';

export interface UserIdentity {
  readonly type: 'Root' | 'IdentityCenterUser' | 'AssumedRole' | 'WebIdentityUser' | 'Unknown';
  readonly accountId?: string;
  readonly arn?: string;
  readonly userName?: string;
  readonly principalId?: string;
  /** The id of the portal or role session whose token made the call (not the token). */
  readonly accessKeyId?: string;
  readonly sessionContext?: { readonly mfaAuthenticated: boolean };
}

export interface AuditRecord {
  readonly eventVersion: '1.08';
  readonly eventID: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion: string;
  readonly userIdentity: UserIdentity;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly requestParameters: unknown;
  readonly responseElements: unknown;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID: string;
  readonly readOnly: boolean;
}

export interface CallOutcome {
  readonly service: string;
  readonly operation: string;
  readonly readOnly: boolean;
  readonly principal: Principal;
  /** Who called, when it is not an API principal (a SCIM token: WebIdentityUser, as AWS records it). */
  readonly identity?: UserIdentity;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly requestId: string;
  readonly time: number;
  /** Already redacted. */
  readonly requestParameters: unknown;
  readonly responseElements: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Operations whose answers are not kept: what LookupEvents answers is records already in the
 * trail, and keeping them again would grow the trail with every look (AWS records null too).
 */
const RESPONSE_NOT_RECORDED = new Set(['cloudtrail:LookupEvents']);

const MAX_APPEND_ATTEMPTS = 8;
/** Records appended in one transaction at most (a few thousand bound parameters). */
const MAX_BATCH = 100;

interface Pending {
  readonly record: AuditRecord;
  readonly time: number;
  /** The record as stored, and as read back (JSON drops undefined members): what the hash covers. */
  readonly text: string;
  readonly stored: unknown;
  readonly done: (error?: Error) => void;
}

export class AuditTrail {
  /**
   * Records waiting for the append under way to end. This process appends one transaction at a
   * time (other nodes are held off by the lock), each with every record that came meanwhile:
   * the lock is the whole cluster's, so one record a transaction would cap the cluster's calls
   * at one commit each, however many nodes (bench:cluster, docs/performance.md).
   */
  private queue: Pending[] = [];
  private appending = false;
  /** Hears each record once it is in the trail (the event bus makes events of them); it keeps its own failures. */
  onRecorded: (record: AuditRecord) => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly region: string,
  ) {}

  async record(outcome: CallOutcome): Promise<AuditRecord> {
    const record: AuditRecord = {
      eventVersion: '1.08',
      eventID: randomUUID(),
      eventTime: new Date(outcome.time).toISOString(),
      eventSource: `${outcome.service}.amazonaws.com`,
      eventName: outcome.operation,
      awsRegion: this.region,
      userIdentity: outcome.identity ?? identityOf(outcome.principal),
      sourceIPAddress: outcome.sourceIp,
      userAgent: outcome.userAgent,
      requestParameters: outcome.requestParameters,
      responseElements: RESPONSE_NOT_RECORDED.has(`${outcome.service}:${outcome.operation}`) ? null : outcome.responseElements,
      ...(outcome.error === undefined ? {} : { errorCode: outcome.error.code, errorMessage: outcome.error.message }),
      requestID: outcome.requestId,
      readOnly: outcome.readOnly,
    };
    const text = JSON.stringify(record);
    const stored = JSON.parse(text) as unknown;
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ record, time: outcome.time, text, stored, done: (error) => (error === undefined ? resolve() : reject(error)) });
      if (!this.appending) void this.drain();
    });
    await this.onRecorded(record);
    return record;
  }

  /** Appends what is queued, in the order it came, a batch a transaction, until nothing is. */
  private async drain(): Promise<void> {
    this.appending = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.append(batch);
        for (const pending of batch) pending.done();
      } catch (error) {
        const failure = error instanceof Error ? error : new Error(`the audit trail could not be appended to: ${String(error)}`);
        for (const pending of batch) pending.done(failure);
      }
    }
    this.appending = false;
  }

  /**
   * Appends with the next sequence numbers and the previous record's hash, read in the same
   * transaction as the insert. The primary key refuses a second record with the same seq, so two
   * writers that read the same last record cannot both append: the loser retries.
   */
  private async append(batch: readonly Pending[]): Promise<void> {
    const prepared = batch.map((pending) => ({ ...pending, columns: identityColumns(pending.stored), resources: resourcesOf(pending.stored) }));
    const postgres = this.db.getExecutor().adapter instanceof PostgresAdapter;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction().execute(async (trx) => {
          // Nodes sharing PostgreSQL append one at a time: a lock per schema, held to commit.
          if (postgres) await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.audit_events'))`.execute(trx);
          const last = await trx.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
          let seq = last?.seq ?? 0;
          let prevHash = last?.hash ?? GENESIS_HASH;
          const events = [];
          const resources = [];
          for (const { record, time, text, stored, columns, resources: named } of prepared) {
            seq++;
            const hash = chainHash(seq, prevHash, stored);
            events.push({
              seq,
              event_id: record.eventID,
              event_time: time,
              event_source: record.eventSource,
              event_name: record.eventName,
              read_only: record.readOnly ? 1 : 0,
              record: text,
              prev_hash: prevHash,
              hash,
              ...columns,
            });
            for (const resource of named) resources.push({ seq, resource_type: resource.type, resource_name: resource.name });
            prevHash = hash;
          }
          await trx.insertInto('audit_events').values(events).execute();
          if (resources.length > 0) await trx.insertInto('audit_event_resources').values(resources).execute();
        });
        return;
      } catch (error) {
        if (attempt >= MAX_APPEND_ATTEMPTS) throw error;
        await sleep(Math.random() * 10 * attempt);
      }
    }
  }
}

function identityOf(principal: Principal): UserIdentity {
  switch (principal.kind) {
    case 'root':
      return { type: 'Root', accountId: principal.accountId, arn: `arn:aws:iam::${principal.accountId}:root`, principalId: principal.accountId };
    case 'portal':
      return {
        type: 'IdentityCenterUser',
        accountId: principal.accountId,
        userName: principal.userName,
        principalId: principal.userId,
        accessKeyId: principal.sessionId,
        sessionContext: { mfaAuthenticated: principal.mfa },
      };
    case 'role':
      return {
        type: 'AssumedRole',
        accountId: principal.accountId,
        arn: assumedRoleArn(principal),
        userName: principal.userName,
        principalId: `${principal.roleName}:${principal.userName}`,
        accessKeyId: principal.sessionId,
        sessionContext: { mfaAuthenticated: principal.mfaAt !== null },
      };
    case 'anonymous':
      return { type: 'Unknown' };
  }
}
