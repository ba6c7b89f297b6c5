/**
 * Service `logs`, the log store: CloudWatch Logs' role. Log groups of an account, their streams
 * and the streams' events, retention, and searching with AWS's filter patterns. Names, fields
 * and limits as Amazon CloudWatch Logs' (botocore's model; its fields are camelCase, and its
 * times epoch milliseconds, as integers). Session recordings are written here (DESIGN §7).
 */
import { operation } from './operation.js';
import { s } from './schema.js';

/** AWS's log group names: 1 to 512 of `a-z A-Z 0-9 . - _ / #`. */
export const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]+$/;
/** AWS's log stream names: 1 to 512 characters, no `:` and no `*`. */
export const LOG_STREAM_NAME = /^[^:*]*$/;
export const MAX_NAME_LENGTH = 512;

/** The retention settings AWS allows, in days. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** PutLogEvents: at most this many events… */
export const MAX_BATCH_EVENTS = 10_000;
/** …of at most this many bytes: the messages in UTF-8, plus EVENT_OVERHEAD_BYTES for each. */
export const MAX_BATCH_BYTES = 1_048_576;
export const EVENT_OVERHEAD_BYTES = 26;
/** Events older than this (or than the group's retention) are rejected. */
export const MAX_EVENT_AGE_MS = 14 * 24 * 3_600_000;
/** Events further in the future than this are rejected. */
export const MAX_EVENT_AHEAD_MS = 2 * 3_600_000;
/** The accepted events of one batch may not span more than this. */
export const MAX_BATCH_SPAN_MS = 24 * 3_600_000;
/** GetLogEvents and FilterLogEvents answer at most this many events, and about this many bytes. */
export const MAX_EVENTS_PER_PAGE = 10_000;
export const MAX_PAGE_BYTES = 1_048_576;
export const MAX_TAGS = 50;

export const logGroupName = s.string({ min: 1, max: MAX_NAME_LENGTH, pattern: LOG_GROUP_NAME, doc: 'Letters, digits and . - _ / #.' });
export const logStreamName = s.string({ min: 1, max: MAX_NAME_LENGTH, pattern: LOG_STREAM_NAME, doc: 'Any characters but : and *.' });
const logGroupIdentifier = s.string({
  min: 1,
  max: 2048,
  pattern: /^[\w#+=/:,.@-]*$/,
  doc: "The log group's name or ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME); give this or logGroupName.",
});
const nextToken = s.string({ min: 1, doc: 'The token a previous page returned.' });
/** Epoch milliseconds, as CloudWatch Logs counts time. */
const time = (doc?: string) => s.integer({ min: 0, ...(doc === undefined ? {} : { doc }) });
/** What was recorded: kept out of the audit trail (a session's keystrokes and output). */
const message = s.string({ min: 1, sensitive: true });

const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const tags = s.map(s.string({ min: 1, max: 128, pattern: TAG_KEY }), s.string({ min: 0, max: 256, pattern: TAG_VALUE }), {
  max: MAX_TAGS,
  doc: 'Key to value; keys starting with aws: are reserved. Policies see them as aws:ResourceTag/KEY.',
});

/* ---------------------------------------------------------------- log groups */

const logGroup = s.struct({
  logGroupName: s.required(s.string()),
  creationTime: s.required(time()),
  retentionInDays: s.optional(s.integer({ doc: 'Absent: events never expire.' })),
  metricFilterCount: s.required(s.integer()),
  arn: s.required(s.string({ doc: 'arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*' })),
  storedBytes: s.required(s.integer()),
  logGroupClass: s.required(s.enum(['STANDARD'] as const)),
  logGroupArn: s.required(s.string({ doc: 'arn:aws:logs:REGION:ACCOUNT:log-group:NAME' })),
});

export const CreateLogGroup = operation({
  service: 'logs',
  name: 'CreateLogGroup',
  summary: 'Make a log group in this account. Its events never expire until PutRetentionPolicy says otherwise.',
  input: s.struct({
    logGroupName: s.required(logGroupName),
    tags: s.optional(tags),
  }),
  output: s.struct({}),
});

export const DeleteLogGroup = operation({
  service: 'logs',
  name: 'DeleteLogGroup',
  summary: 'Delete a log group with all its streams and events, for good.',
  input: s.struct({ logGroupName: s.required(logGroupName) }),
  output: s.struct({}),
});

export const DescribeLogGroups = operation({
  service: 'logs',
  name: 'DescribeLogGroups',
  summary: "This account's log groups in the order of their names' characters, those starting with logGroupNamePrefix if given.",
  input: s.struct({
    logGroupNamePrefix: s.optional(logGroupName),
    limit: s.optional(s.integer({ min: 1, max: 50, doc: 'Default 50.' })),
    nextToken: s.optional(nextToken),
  }),
  output: s.struct({ logGroups: s.required(s.list(logGroup)), nextToken: s.optional(s.string()) }),
});

export const PutRetentionPolicy = operation({
  service: 'logs',
  name: 'PutRetentionPolicy',
  summary: `Keep a log group's events this many days (one of ${RETENTION_DAYS.join(', ')}); older ones are removed by the server's periodic purge.`,
  input: s.struct({
    logGroupName: s.required(logGroupName),
    retentionInDays: s.required(s.integer({ doc: `One of ${RETENTION_DAYS.join(', ')}.` })),
  }),
  output: s.struct({}),
});

export const DeleteRetentionPolicy = operation({
  service: 'logs',
  name: 'DeleteRetentionPolicy',
  summary: "Remove a log group's retention: its events never expire.",
  input: s.struct({ logGroupName: s.required(logGroupName) }),
  output: s.struct({}),
});

/* ---------------------------------------------------------------- log streams */

export const ORDER_BY = ['LogStreamName', 'LastEventTime'] as const;

const logStream = s.struct({
  logStreamName: s.required(s.string()),
  creationTime: s.required(time()),
  firstEventTimestamp: s.optional(time()),
  lastEventTimestamp: s.optional(time()),
  lastIngestionTime: s.optional(time()),
  arn: s.required(s.string({ doc: 'arn:aws:logs:REGION:ACCOUNT:log-group:NAME:log-stream:STREAM' })),
  storedBytes: s.required(s.integer()),
});

/** What names one stream. */
const inStream = { logGroupName: s.required(logGroupName), logStreamName: s.required(logStreamName) };

export const CreateLogStream = operation({
  service: 'logs',
  name: 'CreateLogStream',
  summary: 'Make a log stream in a log group.',
  input: s.struct(inStream),
  output: s.struct({}),
});

export const DeleteLogStream = operation({
  service: 'logs',
  name: 'DeleteLogStream',
  summary: 'Delete a log stream and its events, for good.',
  input: s.struct(inStream),
  output: s.struct({}),
});

export const DescribeLogStreams = operation({
  service: 'logs',
  name: 'DescribeLogStreams',
  summary: "A log group's streams, by name (those starting with logStreamNamePrefix if given) or by the time of their last event.",
  input: s.struct({
    logGroupName: s.optional(logGroupName),
    logGroupIdentifier: s.optional(logGroupIdentifier),
    logStreamNamePrefix: s.optional(logStreamName),
    orderBy: s.optional(s.enum(ORDER_BY, 'LogStreamName (default) or LastEventTime; a prefix goes with LogStreamName only.')),
    descending: s.optional(s.boolean('Latest or last first; default false.')),
    limit: s.optional(s.integer({ min: 1, max: 50, doc: 'Default 50.' })),
    nextToken: s.optional(nextToken),
  }),
  output: s.struct({ logStreams: s.required(s.list(logStream)), nextToken: s.optional(s.string()) }),
});

/* ---------------------------------------------------------------- events */

const inputLogEvent = s.struct({
  timestamp: s.required(time('When it happened, epoch milliseconds.')),
  message: s.required(message),
});

const rejectedLogEventsInfo = s.struct({
  tooNewLogEventStartIndex: s.optional(s.integer({ doc: 'The first event more than 2 hours ahead (inclusive): it and those after were not stored.' })),
  tooOldLogEventEndIndex: s.optional(s.integer({ doc: 'The end (exclusive) of the events more than 14 days old, not stored.' })),
  expiredLogEventEndIndex: s.optional(s.integer({ doc: "The end (exclusive) of the events older than the group's retention, not stored." })),
});

export const PutLogEvents = operation({
  service: 'logs',
  name: 'PutLogEvents',
  summary: `Add events to a log stream: at most ${MAX_BATCH_EVENTS} in chronological order, at most ${MAX_BATCH_BYTES} bytes (messages in UTF-8 plus ${EVENT_OVERHEAD_BYTES} per event), spanning at most 24 hours. Events more than 2 hours ahead, more than 14 days old or older than the retention are not stored and are named in rejectedLogEventsInfo. sequenceToken is accepted and ignored, as AWS now does.`,
  input: s.struct({
    ...inStream,
    logEvents: s.required(s.list(inputLogEvent, { min: 1, max: MAX_BATCH_EVENTS })),
    sequenceToken: s.optional(s.string({ min: 1, doc: 'Ignored.' })),
  }),
  output: s.struct({
    nextSequenceToken: s.optional(s.string({ doc: 'Deprecated, as at AWS: never needed.' })),
    rejectedLogEventsInfo: s.optional(rejectedLogEventsInfo),
  }),
});

const outputLogEvent = s.struct({
  timestamp: s.required(time()),
  message: s.required(message),
  ingestionTime: s.required(time()),
});

export const GetLogEvents = operation({
  service: 'logs',
  name: 'GetLogEvents',
  summary:
    "A log stream's events in time order, the latest page first unless startFromHead. nextForwardToken (f/…) and nextBackwardToken (b/…) page on; at the end the same token comes back. At most 10,000 events or about 1 MB a page.",
  input: s.struct({
    logGroupName: s.optional(logGroupName),
    logGroupIdentifier: s.optional(logGroupIdentifier),
    logStreamName: s.required(logStreamName),
    startTime: s.optional(time('Events at or after it.')),
    endTime: s.optional(time('Events before it.')),
    nextToken: s.optional(nextToken),
    limit: s.optional(s.integer({ min: 1, max: MAX_EVENTS_PER_PAGE })),
    startFromHead: s.optional(s.boolean('The earliest events first; default false (the latest).')),
  }),
  output: s.struct({
    events: s.required(s.list(outputLogEvent)),
    nextForwardToken: s.required(s.string()),
    nextBackwardToken: s.required(s.string()),
  }),
});

const filteredLogEvent = s.struct({
  logStreamName: s.required(s.string()),
  timestamp: s.required(time()),
  message: s.required(message),
  ingestionTime: s.required(time()),
  eventId: s.required(s.string()),
});

export const FilterLogEvents = operation({
  service: 'logs',
  name: 'FilterLogEvents',
  summary:
    'Search a log group\'s events, across its streams in time order: terms that must all appear, "quoted phrases", -exclusions, and ?terms of which one must appear (case-sensitive). A page may come back short, even empty, with a nextToken: the search goes on from there.',
  readOnly: true,
  input: s.struct({
    logGroupName: s.optional(logGroupName),
    logGroupIdentifier: s.optional(logGroupIdentifier),
    logStreamNames: s.optional(s.list(logStreamName, { min: 1, max: 100, doc: 'Only these streams; not with logStreamNamePrefix.' })),
    logStreamNamePrefix: s.optional(logStreamName),
    startTime: s.optional(time('Events at or after it.')),
    endTime: s.optional(time('Events at or before it.')),
    filterPattern: s.optional(s.string({ min: 0, max: 1024, doc: 'Empty or absent: every event.' })),
    nextToken: s.optional(nextToken),
    limit: s.optional(s.integer({ min: 1, max: MAX_EVENTS_PER_PAGE, doc: 'Default 10,000.' })),
  }),
  output: s.struct({
    events: s.required(s.list(filteredLogEvent)),
    searchedLogStreams: s.required(s.list(s.struct({ logStreamName: s.required(s.string()), searchedCompletely: s.required(s.boolean()) }))),
    nextToken: s.optional(s.string()),
  }),
});

export const LOGS_OPERATIONS = [
  CreateLogGroup,
  DeleteLogGroup,
  DescribeLogGroups,
  PutRetentionPolicy,
  DeleteRetentionPolicy,
  CreateLogStream,
  DeleteLogStream,
  DescribeLogStreams,
  PutLogEvents,
  GetLogEvents,
  FilterLogEvents,
] as const;
