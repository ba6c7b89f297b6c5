/**
 * Service `cloudtrail`: LookupEvents over the audit trail, as AWS CloudTrail answers it. Newest
 * first (by event time, then seq), one optional attribute, an inclusive time range, pages of at
 * most 50 with a NextToken that remembers where the last page ended.
 */
import { ApiError, cloudtrail as api, type InputOf, type OutputOf } from '@airlock/protocol';
import { bind, type BoundOperation, type CallContext } from '../registry/handler.js';
import type { Db } from '../storage/db.js';
import type { AuditEventsTable } from '../storage/schema.js';

type Event = OutputOf<typeof api.LookupEvents>['Events'][number];
type Row = Pick<AuditEventsTable, 'seq' | 'event_id' | 'event_name' | 'event_time' | 'event_source' | 'read_only' | 'user_name' | 'access_key_id' | 'record'>;

const DEFAULT_MAX_RESULTS = 50;

interface Position {
  readonly time: number;
  readonly seq: number;
}

function encodeToken(position: Position): string {
  return Buffer.from(JSON.stringify({ t: position.time, s: position.seq })).toString('base64url');
}

function decodeToken(token: string | undefined): Position | undefined {
  if (token === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { t?: unknown; s?: unknown };
    if (Number.isSafeInteger(parsed.t) && Number.isSafeInteger(parsed.s)) return { time: parsed.t as number, seq: parsed.s as number };
  } catch {
    // fall through to the error below
  }
  throw new ApiError('InvalidNextTokenException', 'NextToken is not a token LookupEvents returned.');
}

async function lookupEvents(input: InputOf<typeof api.LookupEvents>, { services }: CallContext) {
  const size = input.MaxResults ?? DEFAULT_MAX_RESULTS;
  if (input.StartTime !== undefined && input.EndTime !== undefined && input.StartTime > input.EndTime) {
    throw new ApiError('InvalidTimeRangeException', 'StartTime must be at or before EndTime.');
  }
  const { db } = services;
  let query = db
    .selectFrom('audit_events')
    .select(['seq', 'event_id', 'event_name', 'event_time', 'event_source', 'read_only', 'user_name', 'access_key_id', 'record'])
    .orderBy('event_time', 'desc')
    .orderBy('seq', 'desc')
    .limit(size + 1);
  const attribute = input.LookupAttributes?.[0];
  if (attribute !== undefined) {
    const value = attribute.AttributeValue;
    switch (attribute.AttributeKey) {
      case 'EventId':
        query = query.where('event_id', '=', value);
        break;
      case 'EventName':
        query = query.where('event_name', '=', value);
        break;
      case 'EventSource':
        query = query.where('event_source', '=', value);
        break;
      case 'Username':
        query = query.where('user_name', '=', value);
        break;
      case 'AccessKeyId':
        query = query.where('access_key_id', '=', value);
        break;
      case 'ReadOnly':
        if (value !== 'true' && value !== 'false') throw new ApiError('InvalidLookupAttributesException', `The ReadOnly attribute must be true or false, not "${value}".`);
        query = query.where('read_only', '=', value === 'true' ? 1 : 0);
        break;
      case 'ResourceName':
        query = query.where('seq', 'in', db.selectFrom('audit_event_resources').select('seq').where('resource_name', '=', value));
        break;
      case 'ResourceType':
        query = query.where('seq', 'in', db.selectFrom('audit_event_resources').select('seq').where('resource_type', '=', value));
        break;
    }
  }
  // Epoch seconds, maybe with a fraction; the column holds whole milliseconds.
  if (input.StartTime !== undefined) query = query.where('event_time', '>=', Math.ceil(input.StartTime * 1000));
  if (input.EndTime !== undefined) query = query.where('event_time', '<=', Math.floor(input.EndTime * 1000));
  const after = decodeToken(input.NextToken);
  if (after !== undefined) {
    query = query.where((eb) => eb.or([eb('event_time', '<', after.time), eb.and([eb('event_time', '=', after.time), eb('seq', '<', after.seq)])]));
  }
  const rows = await query.execute();
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  const resources = await resourcesOf(db, items.map((row) => row.seq));
  return {
    Events: items.map((row) => eventOf(row, resources.get(row.seq) ?? [])),
    ...(rows.length > size && last !== undefined ? { NextToken: encodeToken({ time: last.event_time, seq: last.seq }) } : {}),
  };
}

async function resourcesOf(db: Db, seqs: readonly number[]): Promise<Map<number, NonNullable<Event['Resources']>>> {
  const bySeq = new Map<number, NonNullable<Event['Resources']>>();
  if (seqs.length === 0) return bySeq;
  const rows = await db.selectFrom('audit_event_resources').select(['seq', 'resource_type', 'resource_name']).where('seq', 'in', seqs).execute();
  for (const row of rows) {
    let list = bySeq.get(row.seq);
    if (list === undefined) bySeq.set(row.seq, (list = []));
    list.push({ ResourceType: row.resource_type, ResourceName: row.resource_name });
  }
  return bySeq;
}

function eventOf(row: Row, resources: NonNullable<Event['Resources']>): Event {
  return {
    EventId: row.event_id,
    EventName: row.event_name,
    ReadOnly: row.read_only === 1 ? 'true' : 'false',
    ...(row.access_key_id === null ? {} : { AccessKeyId: row.access_key_id }),
    EventTime: row.event_time / 1000,
    EventSource: row.event_source,
    ...(row.user_name === null ? {} : { Username: row.user_name }),
    ...(resources.length === 0 ? {} : { Resources: resources }),
    CloudTrailEvent: row.record,
  };
}

export const CLOUDTRAIL_OPERATIONS: readonly BoundOperation[] = [bind(api.LookupEvents, lookupEvents)];
