/**
 * Log groups (logs:DescribeLogGroups) → a group's streams (logs:DescribeLogStreams), latest
 * first, and a search across the group (logs:FilterLogEvents) → a stream's events
 * (logs:GetLogEvents).
 */
import { logs } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import '../common/console.css';
import { useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Loading, TextField } from '../../app/forms';
import { Link, type PageProps } from '../../app/router';
import { formatMillis } from '../common/time';

const groupPath = (group: string): string => `/console/logs/${encodeURIComponent(group)}`;

export function LogGroupsPage(): ReactNode {
  const groups = useOperation(logs.DescribeLogGroups, {});
  if (groups.error !== undefined) return <ErrorMessage error={groups.error} />;
  if (groups.data === undefined) return <Loading what="the log groups" />;
  if (groups.data.logGroups.length === 0) return <p>There are no log groups yet: Session Manager makes its group when the first session logs to it.</p>;
  return (
    <table>
      <caption className="visually-hidden">Log groups</caption>
      <thead>
        <tr>
          <th scope="col">Log group</th>
          <th scope="col">Created</th>
          <th scope="col">Retention</th>
          <th scope="col">Stored bytes</th>
        </tr>
      </thead>
      <tbody>
        {groups.data.logGroups.map((group) => (
          <tr key={group.logGroupName}>
            <td>
              <Link to={groupPath(group.logGroupName)}>{group.logGroupName}</Link>
            </td>
            <td>{formatMillis(group.creationTime)}</td>
            <td>{group.retentionInDays === undefined ? 'Never expire' : `${group.retentionInDays} days`}</td>
            <td>{group.storedBytes}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EventList({ events }: { events: readonly { timestamp: number; message: string; logStreamName?: string }[] }): ReactNode {
  if (events.length === 0) return <p>No events.</p>;
  return (
    <ol className="log-events">
      {events.map((event, index) => (
        <li key={index}>
          <time className="muted">{formatMillis(event.timestamp)}</time> {event.logStreamName !== undefined && <span className="mono">{event.logStreamName}</span>} <code>{event.message}</code>
        </li>
      ))}
    </ol>
  );
}

function GroupSearch({ group }: { group: string }): ReactNode {
  const [pattern, setPattern] = useState('');
  const [asked, setAsked] = useState<string | undefined>(undefined);
  const found = useOperation(logs.FilterLogEvents, asked === undefined ? undefined : { logGroupName: group, filterPattern: asked, limit: 500 });
  return (
    <section aria-labelledby="search-heading">
      <h2 id="search-heading">Search the group</h2>
      <form
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setAsked(pattern);
        }}
      >
        <TextField label="Filter pattern" value={pattern} onValue={setPattern} hint='Terms that must all appear, "quoted phrases", -exclusions; empty: every event.' />
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <ErrorMessage error={found.error} />
      {found.loading && <Loading what="matching events" />}
      {found.data !== undefined && <EventList events={found.data.events} />}
    </section>
  );
}

export function LogGroupPage({ params }: PageProps): ReactNode {
  const group = params['group'] ?? '';
  const streams = useOperation(logs.DescribeLogStreams, { logGroupName: group, orderBy: 'LastEventTime', descending: true });
  return (
    <>
      <p>
        <Link to="/console/logs">All log groups</Link> / <code>{group}</code>
      </p>
      <section aria-labelledby="streams-heading">
        <h2 id="streams-heading">Log streams</h2>
        <ErrorMessage error={streams.error} />
        {streams.data === undefined && streams.error === undefined && <Loading what="the streams" />}
        {streams.data !== undefined && (
          <table>
            <caption className="visually-hidden">Log streams of {group}</caption>
            <thead>
              <tr>
                <th scope="col">Stream</th>
                <th scope="col">Last event</th>
              </tr>
            </thead>
            <tbody>
              {streams.data.logStreams.map((stream) => (
                <tr key={stream.logStreamName}>
                  <td>
                    <Link to={`${groupPath(group)}/${encodeURIComponent(stream.logStreamName)}`} className="mono">
                      {stream.logStreamName}
                    </Link>
                  </td>
                  <td>{stream.lastEventTimestamp === undefined ? '' : formatMillis(stream.lastEventTimestamp)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <GroupSearch group={group} />
    </>
  );
}

export function LogStreamPage({ params }: PageProps): ReactNode {
  const group = params['group'] ?? '';
  const stream = params['stream'] ?? '';
  const events = useOperation(logs.GetLogEvents, { logGroupName: group, logStreamName: stream, startFromHead: true, limit: 1000 });
  return (
    <>
      <p>
        <Link to="/console/logs">All log groups</Link> / <Link to={groupPath(group)}>{group}</Link> / <code>{stream}</code>
      </p>
      <ErrorMessage error={events.error} />
      {events.data === undefined && events.error === undefined && <Loading what="the events" />}
      {events.data !== undefined && <EventList events={events.data.events} />}
    </>
  );
}
