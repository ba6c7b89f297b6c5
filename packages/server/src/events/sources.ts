/**
 * Where events come from. Most are read off the audit trail, which records every API call: the
 * call itself (EventBridge's "AWS API Call via CloudTrail", for calls that change something),
 * and the notable ones named for what they mean: access denied, a failed sign-in, an MFA device
 * registered or removed, a permission set or policy changed, a session started. The rest come
 * from the parts that see them happen: a session's end (the session broker) and an instance's
 * control channel lost (the agents' hub). Detail of the audit-derived events is the audit
 * record itself (CloudTrail's fields, secrets already redacted).
 */
import type { AuditRecord } from '../audit/trail.js';
import { instanceArn } from '../fleet/arns.js';
import type { Db } from '../storage/db.js';
import type { EventInput } from './bus.js';

export const DETAIL_TYPES = {
  apiCall: 'AWS API Call via CloudTrail',
  accessDenied: 'Access Denied',
  signInFailure: 'Sign-in Failure',
  mfaRegistered: 'MFA Device Registered',
  mfaRemoved: 'MFA Device Removed',
  accessChange: 'Permission Set or Policy Change',
  session: 'Session Manager Session State-change Notification',
  connectionLost: 'Managed Instance Connection Lost',
} as const;

export type SessionState = 'Started' | 'Terminated' | 'Failed';

const SIGN_IN_OPERATIONS = new Set(['InitiateAuth', 'RespondToAuthChallenge']);
/** IAM Identity Center calls that change permission sets, their policies, assignments or the MFA policy. */
const ACCESS_CHANGE = /^(Create|Update|Delete|Put|Attach|Detach|Provision)/;

/** The events one audit record makes. `managementAccount` hears those of callers without an account (failed sign-ins). */
export function auditEvents(record: AuditRecord, managementAccount: string): EventInput[] {
  // Most records are successful reads, which make no event: nothing to do for them.
  if (record.readOnly && record.errorCode === undefined) return [];
  const detail = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  const service = record.eventSource.replace(/\.amazonaws\.com$/, '');
  const account = record.userIdentity.accountId ?? managementAccount;
  const time = Date.parse(record.eventTime);
  const failed = record.errorCode !== undefined;
  const event = (source: string, detailType: string): EventInput => ({ source, detailType, account, detail, time });
  const events: EventInput[] = [];
  if (!record.readOnly) events.push(event(`aws.${service}`, DETAIL_TYPES.apiCall));
  if (record.errorCode === 'AccessDeniedException') events.push(event(`aws.${service}`, DETAIL_TYPES.accessDenied));
  if (service === 'portal' && failed && SIGN_IN_OPERATIONS.has(record.eventName)) events.push(event('aws.sso', DETAIL_TYPES.signInFailure));
  if (service === 'portal' && !failed && record.eventName === 'VerifySoftwareToken') events.push(event('aws.sso', DETAIL_TYPES.mfaRegistered));
  if (!failed && ((service === 'portal' && record.eventName === 'DeleteMfaDevice') || (service === 'identitystore' && record.eventName === 'DeleteMfaDeviceForUser'))) events.push(event('aws.sso', DETAIL_TYPES.mfaRemoved));
  if (service === 'sso' && !failed && !record.readOnly && ACCESS_CHANGE.test(record.eventName)) events.push(event('aws.sso', DETAIL_TYPES.accessChange));
  if (service === 'ssm' && !failed && record.eventName === 'StartSession') {
    const started = sessionStarted(record, account, time);
    if (started !== undefined) events.push(started);
  }
  return events;
}

function sessionStarted(record: AuditRecord, account: string, time: number): EventInput | undefined {
  const request = record.requestParameters as { Target?: unknown; DocumentName?: unknown } | null;
  const response = record.responseElements as { SessionId?: unknown } | null;
  if (typeof response?.SessionId !== 'string' || typeof request?.Target !== 'string') return undefined;
  return {
    source: 'aws.ssm',
    detailType: DETAIL_TYPES.session,
    account,
    time,
    resources: [sessionArn(record.awsRegion, account, response.SessionId)],
    detail: {
      'session-id': response.SessionId,
      target: request.Target,
      owner: record.userIdentity.arn ?? null,
      'document-name': typeof request.DocumentName === 'string' ? request.DocumentName : 'SSM-SessionManagerRunShell',
      state: 'Started',
    },
  };
}

/** A session's end, from its record; undefined when there is no such session. */
export async function sessionEnded(db: Db, region: string, sessionId: string, state: Exclude<SessionState, 'Started'>, reason: string): Promise<EventInput | undefined> {
  const row = await db.selectFrom('sessions').select(['account_id', 'target', 'owner_arn', 'document_name']).where('session_id', '=', sessionId).executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    source: 'aws.ssm',
    detailType: DETAIL_TYPES.session,
    account: row.account_id,
    resources: [sessionArn(region, row.account_id, sessionId)],
    detail: { 'session-id': sessionId, target: row.target, owner: row.owner_arn, 'document-name': row.document_name, state, reason },
  };
}

/** An instance's control channel closed without another taking its place; undefined for an unknown instance. */
export async function connectionLost(db: Db, region: string, instanceId: string, reason: string): Promise<EventInput | undefined> {
  const row = await db.selectFrom('instances').select(['instance_id', 'account_id', 'region', 'name', 'computer_name']).where('instance_id', '=', instanceId).executeTakeFirst();
  if (row === undefined) return undefined;
  return {
    source: 'aws.ssm',
    detailType: DETAIL_TYPES.connectionLost,
    account: row.account_id,
    resources: [instanceArn(row, region)],
    detail: { 'instance-id': instanceId, 'ping-status': 'ConnectionLost', 'computer-name': row.computer_name, name: row.name, reason },
  };
}

function sessionArn(region: string, account: string, sessionId: string): string {
  return `arn:aws:ssm:${region}:${account}:session/${sessionId}`;
}
