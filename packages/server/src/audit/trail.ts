/**
 * The audit trail: one CloudTrail-shaped record for every API call, successful or not, with
 * secrets redacted by the operation's own schema. Records are numbered in order (seq); the
 * access issue chains them by hash.
 */
import { randomUUID } from 'node:crypto';
import { assumedRoleArn, type Principal } from '../identity/principal.js';
import type { Db } from '../storage/db.js';

export interface UserIdentity {
  readonly type: 'Root' | 'IdentityCenterUser' | 'AssumedRole' | 'Unknown';
  readonly accountId?: string;
  readonly arn?: string;
  readonly userName?: string;
  readonly principalId?: string;
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
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly requestId: string;
  readonly time: number;
  /** Already redacted. */
  readonly requestParameters: unknown;
  readonly responseElements: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

const MAX_APPEND_ATTEMPTS = 5;

export class AuditTrail {
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
      userIdentity: identityOf(outcome.principal),
      sourceIPAddress: outcome.sourceIp,
      userAgent: outcome.userAgent,
      requestParameters: outcome.requestParameters,
      responseElements: outcome.responseElements,
      ...(outcome.error === undefined ? {} : { errorCode: outcome.error.code, errorMessage: outcome.error.message }),
      requestID: outcome.requestId,
      readOnly: outcome.readOnly,
    };
    await this.append(record, outcome.time);
    return record;
  }

  /** Appends with the next sequence number; concurrent writers on other nodes retry. */
  private async append(record: AuditRecord, time: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction().execute(async (trx) => {
          const last = await trx.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
          await trx
            .insertInto('audit_events')
            .values({
              seq: (last?.seq ?? 0) + 1,
              event_id: record.eventID,
              event_time: time,
              event_source: record.eventSource,
              event_name: record.eventName,
              read_only: record.readOnly ? 1 : 0,
              record: JSON.stringify(record),
            })
            .execute();
        });
        return;
      } catch (error) {
        if (attempt >= MAX_APPEND_ATTEMPTS) throw error;
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
        sessionContext: { mfaAuthenticated: principal.mfa },
      };
    case 'role':
      return {
        type: 'AssumedRole',
        accountId: principal.accountId,
        arn: assumedRoleArn(principal),
        userName: principal.userName,
        principalId: `${principal.roleName}:${principal.userName}`,
        sessionContext: { mfaAuthenticated: principal.mfaAt !== null },
      };
    case 'anonymous':
      return { type: 'Unknown' };
  }
}
