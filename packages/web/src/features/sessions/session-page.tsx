/**
 * One session: its facts (DescribeSessions), its recording replayed (ssm:GetSessionRecording)
 * and its log, the events of its stream in the log group its preferences named
 * (logs:GetLogEvents; the caller's policy decides whether they may read it).
 */
import { logs, sessions } from '@airlock/protocol';
import type { ReactNode } from 'react';
import '../common/console.css';
import { useOperation } from '../../app/api';
import { ErrorMessage } from '../../app/errors';
import { Loading } from '../../app/forms';
import { Link, type PageProps } from '../../app/router';
import { formatMillis, formatTime } from '../common/time';
import { ReplayPlayer } from './replay';

function SessionLog({ logGroupName, sessionId }: { logGroupName: string; sessionId: string }): ReactNode {
  const events = useOperation(logs.GetLogEvents, { logGroupName, logStreamName: sessionId, startFromHead: true, limit: 1000 });
  if (events.error !== undefined) return <ErrorMessage error={events.error} />;
  if (events.data === undefined) return <Loading what="the log" />;
  if (events.data.events.length === 0) return <p>The log stream has no events yet.</p>;
  return (
    <ol className="log-events">
      {events.data.events.map((event, index) => (
        <li key={index}>
          <time className="muted">{formatMillis(event.timestamp)}</time> <code>{event.message}</code>
        </li>
      ))}
    </ol>
  );
}

export function SessionPage({ params }: PageProps): ReactNode {
  const sessionId = params['sessionId'] ?? '';
  // An address that names no session in the form AWS gives them is not asked about.
  const wellFormed = sessions.SESSION_ID.test(sessionId);
  const found = useOperation(sessions.DescribeSessions, wellFormed ? { State: 'History', Filters: [{ key: 'SessionId', value: sessionId }] } : undefined);
  const active = useOperation(sessions.DescribeSessions, wellFormed ? { State: 'Active', Filters: [{ key: 'SessionId', value: sessionId }] } : undefined);
  const recording = useOperation(sessions.GetSessionRecording, wellFormed ? { SessionId: sessionId } : undefined);
  const session = found.data?.Sessions[0] ?? active.data?.Sessions[0];
  // Listed nowhere and no recording either (an older session may still have its recording).
  const unknown = !wellFormed || (found.data !== undefined && active.data !== undefined && session === undefined && recording.error !== undefined);
  if (unknown) {
    return (
      <p role="alert">
        There is no session {sessionId} (active, or ended in the last 30 days). <Link to="/console/sessions">See the sessions</Link>.
      </p>
    );
  }
  return (
    <>
      <section aria-labelledby="facts-heading">
        <h2 id="facts-heading" className="mono">
          {sessionId}
        </h2>
        <ErrorMessage error={found.error ?? active.error} />
        {session !== undefined && (
          <dl className="facts">
            <dt>Target</dt>
            <dd className="mono">{session.Target}</dd>
            <dt>Status</dt>
            <dd>{session.Status}</dd>
            <dt>Owner</dt>
            <dd className="mono">{session.Owner}</dd>
            <dt>Started</dt>
            <dd>{formatTime(session.StartDate)}</dd>
            {session.EndDate !== undefined && (
              <>
                <dt>Ended</dt>
                <dd>{formatTime(session.EndDate)}</dd>
              </>
            )}
            {session.Reason !== undefined && (
              <>
                <dt>Reason</dt>
                <dd>{session.Reason}</dd>
              </>
            )}
            {session.Details !== undefined && (
              <>
                <dt>Details</dt>
                <dd>{session.Details}</dd>
              </>
            )}
          </dl>
        )}
      </section>
      <section aria-labelledby="replay-heading">
        <h2 id="replay-heading">Replay</h2>
        <ErrorMessage error={recording.error} />
        {recording.loading && <Loading what="the recording" />}
        {recording.data !== undefined && <ReplayPlayer content={recording.data.Content} label={`The terminal of session ${sessionId}, replayed`} />}
      </section>
      <section aria-labelledby="log-heading">
        <h2 id="log-heading">Log</h2>
        {recording.data !== undefined &&
          (recording.data.LogGroupName === undefined ? (
            <p>This session&rsquo;s preferences sent its events to no log group.</p>
          ) : (
            <>
              <p>
                Log group <code>{recording.data.LogGroupName}</code>, stream <code>{sessionId}</code>.
              </p>
              <SessionLog logGroupName={recording.data.LogGroupName} sessionId={sessionId} />
            </>
          ))}
      </section>
    </>
  );
}
