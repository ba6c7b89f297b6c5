/**
 * Service `cloudtrail`: looking up the audit trail, with AWS CloudTrail's LookupEvents shape.
 * Every API call leaves one record; LookupEvents finds them, newest first, by one attribute and
 * a time range. The records themselves are hash-chained on the server (`airlock audit verify`).
 */
import { operation } from './operation.js';
import { s } from './schema.js';

/** The attributes a lookup may filter on, as AWS names them. */
export const LOOKUP_ATTRIBUTE_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;
export type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];

const lookupAttribute = s.struct({
  AttributeKey: s.required(s.enum(LOOKUP_ATTRIBUTE_KEYS, 'The attribute to match.')),
  AttributeValue: s.required(s.string({ min: 1, max: 2000, doc: 'The value it must equal (ReadOnly: true or false).' })),
});

const resource = s.struct({
  ResourceType: s.optional(s.string({ doc: 'AWS::IdentityStore::User, AWS::SSO::PermissionSet, …' })),
  ResourceName: s.optional(s.string({ doc: 'The ARN or id the call named.' })),
});

const event = s.struct({
  EventId: s.required(s.string()),
  EventName: s.required(s.string()),
  ReadOnly: s.required(s.enum(['true', 'false'] as const, 'As AWS answers: a string.')),
  AccessKeyId: s.optional(s.string({ doc: "The caller's session id (portal or role session)." })),
  EventTime: s.required(s.timestamp()),
  EventSource: s.required(s.string({ doc: 'identitystore.amazonaws.com, …' })),
  Username: s.optional(s.string({ doc: 'The user who called; root for the root token; absent for an unauthenticated call.' })),
  Resources: s.optional(s.list(resource)),
  CloudTrailEvent: s.required(s.string({ doc: 'The whole record, as JSON text.' })),
});

export const LookupEvents = operation({
  service: 'cloudtrail',
  name: 'LookupEvents',
  summary: 'Audit records, newest first: every API call, by at most one attribute and a time range.',
  readOnly: true,
  input: s.struct({
    LookupAttributes: s.optional(s.list(lookupAttribute, { max: 1, doc: 'At most one, as AWS allows.' })),
    StartTime: s.optional(s.timestamp('Only events at or after this time.')),
    EndTime: s.optional(s.timestamp('Only events at or before this time.')),
    MaxResults: s.optional(s.integer({ min: 1, max: 50, doc: 'At most this many events in one page (default 50).' })),
    NextToken: s.optional(s.string({ min: 1, max: 1000, doc: 'The token a previous page returned.' })),
  }),
  output: s.struct({ Events: s.required(s.list(event)), NextToken: s.optional(s.string()) }),
});

export const CLOUDTRAIL_OPERATIONS = [LookupEvents] as const;
