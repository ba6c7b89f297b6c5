/**
 * Reading events: GetLogEvents (one stream, forward or backward with f/ and b/ tokens) and
 * FilterLogEvents (a group's streams in time order, through a filter pattern). Both page by key
 * (time, then stream and number), never by offset, so a page of a large stream costs the same
 * wherever it is.
 */
import { ApiError, logs as api, type InputOf } from '@airlock/protocol';
import { callerAccount } from '../identity/principal.js';
import type { CallContext } from '../registry/handler.js';
import type { LogEventsTable } from '../storage/schema.js';
import { groupNameOf } from './arns.js';
import { matchesFilter, parseFilterPattern } from './filter-pattern.js';
import { invalidToken, prefixRange, scan } from './paging.js';
import { eventDigits, parseDigits, type Position } from './positions.js';
import { requireLogGroup, requireLogStream } from './store.js';

/** Events FilterLogEvents reads at most per call; it answers with a nextToken to go on. */
export const FILTER_SCAN_BUDGET = 50_000;

type StreamEvent = Pick<LogEventsTable, 'event_time' | 'seq' | 'ingested_at' | 'message' | 'size'>;
type GroupEvent = StreamEvent & Pick<LogEventsTable, 'stream_id'> & { readonly name: string };

const idOf = (row: GroupEvent): string => eventDigits({ time: row.event_time, seq: row.seq, streamId: row.stream_id });

const TOKEN = /^([fb])\/(\d{56})$/;

function streamToken(token: string, streamId: string): { forward: boolean; position: Position } {
  const [, direction, digits = ''] = TOKEN.exec(token) ?? [];
  const position = parseDigits(digits);
  if (position === undefined || position.streamId !== streamId) throw invalidToken();
  return { forward: direction === 'f', position };
}

async function getLogEvents(input: InputOf<typeof api.GetLogEvents>, context: CallContext) {
  const { db } = context.services;
  const group = await requireLogGroup(db, callerAccount(context.principal), groupNameOf(input, context));
  const { stream_id: streamId } = await requireLogStream(db, group, input.logStreamName);
  const token = input.nextToken === undefined ? undefined : streamToken(input.nextToken, streamId);
  const forward = token?.forward ?? input.startFromHead === true;
  const order = forward ? 'asc' : 'desc';
  const limit = input.limit ?? api.MAX_EVENTS_PER_PAGE;
  const { kept } = await scan<StreamEvent>(
    (after, count) => {
      const from = after === undefined ? token?.position : { time: after.event_time, seq: after.seq };
      return db
        .selectFrom('log_events')
        .select(['event_time', 'seq', 'ingested_at', 'message', 'size'])
        .where('stream_id', '=', streamId)
        .$if(input.startTime !== undefined, (qb) => qb.where('event_time', '>=', input.startTime ?? 0))
        .$if(input.endTime !== undefined, (qb) => qb.where('event_time', '<', input.endTime ?? 0))
        .$if(from !== undefined, (qb) => qb.where((eb) => eb(eb.refTuple('event_time', 'seq'), forward ? '>' : '<', eb.tuple(from?.time ?? 0, from?.seq ?? 0))))
        .orderBy('event_time', order)
        .orderBy('seq', order)
        .limit(count)
        .execute();
    },
    { limit, budget: limit },
  );
  const rows = forward ? kept : kept.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const at = (row: { event_time: number; seq: number }) => eventDigits({ time: row.event_time, seq: row.seq, streamId });
  // Nothing further that way: the same token back (or, on a first call, both at the stream's start).
  const here = eventDigits(token?.position ?? { time: 0, seq: 0, streamId });
  return {
    events: rows.map((row) => ({ timestamp: row.event_time, message: row.message, ingestionTime: row.ingested_at })),
    nextForwardToken: last === undefined ? (forward && input.nextToken !== undefined ? input.nextToken : `f/${here}`) : `f/${at(last)}`,
    nextBackwardToken: first === undefined ? (!forward && input.nextToken !== undefined ? input.nextToken : `b/${here}`) : `b/${at(first)}`,
  };
}

async function filterLogEvents(input: InputOf<typeof api.FilterLogEvents>, context: CallContext) {
  const { db } = context.services;
  if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined) {
    throw new ApiError('InvalidParameterException', 'logStreamNames and logStreamNamePrefix cannot both be given.');
  }
  const pattern = parseFilterPattern(input.filterPattern ?? '');
  const group = await requireLogGroup(db, callerAccount(context.principal), groupNameOf(input, context));
  const start = input.nextToken === undefined ? undefined : parseDigits(input.nextToken);
  if (input.nextToken !== undefined && start === undefined) throw invalidToken();
  const names = input.logStreamNames;
  const prefix = input.logStreamNamePrefix === undefined ? undefined : prefixRange(input.logStreamNamePrefix);
  const searched = new Set<string>();
  const { kept, last, more } = await scan<GroupEvent>(
    (after, count) => {
      const from = after === undefined ? start : { time: after.event_time, seq: after.seq, streamId: after.stream_id };
      return db
        .selectFrom('log_events')
        .innerJoin('log_streams', 'log_streams.stream_id', 'log_events.stream_id')
        .select(['log_events.event_time', 'log_events.seq', 'log_events.stream_id', 'log_events.ingested_at', 'log_events.message', 'log_events.size', 'log_streams.name'])
        .where('log_events.group_id', '=', group.group_id)
        .$if(input.startTime !== undefined, (qb) => qb.where('log_events.event_time', '>=', input.startTime ?? 0))
        .$if(input.endTime !== undefined, (qb) => qb.where('log_events.event_time', '<=', input.endTime ?? 0))
        .$if(names !== undefined, (qb) => qb.where('log_streams.name', 'in', names ?? []))
        .$if(prefix !== undefined, (qb) => qb.where('log_streams.name', '>=', prefix?.from ?? ''))
        .$if(prefix?.below !== undefined, (qb) => qb.where('log_streams.name', '<', prefix?.below ?? ''))
        .$if(from !== undefined, (qb) =>
          qb.where((eb) => eb(eb.refTuple('log_events.event_time', 'log_events.stream_id', 'log_events.seq'), '>', eb.tuple(from?.time ?? 0, from?.streamId ?? '', from?.seq ?? 0))),
        )
        .orderBy('log_events.event_time')
        .orderBy('log_events.stream_id')
        .orderBy('log_events.seq')
        .limit(count)
        .execute();
    },
    {
      limit: input.limit ?? api.MAX_EVENTS_PER_PAGE,
      budget: FILTER_SCAN_BUDGET,
      keep: (row) => {
        searched.add(row.name);
        return matchesFilter(pattern, row.message);
      },
    },
  );
  return {
    events: kept.map((row) => ({
      logStreamName: row.name,
      timestamp: row.event_time,
      message: row.message,
      ingestionTime: row.ingested_at,
      eventId: idOf(row),
    })),
    searchedLogStreams: [...searched].sort().map((logStreamName) => ({ logStreamName, searchedCompletely: !more })),
    ...(more && last !== undefined ? { nextToken: idOf(last) } : {}),
  };
}

export const readingHandlers = { getLogEvents, filterLogEvents };
