/**
 * Sessions: the active ones and the history (last 30 days), newest first, with whose each is.
 * Every active one has a Terminate button, as in AWS's console: the caller's policy decides (the
 * guide's lets a person end their own only, an administrator's any); each session links to its
 * page with its log and replay.
 */
import { sessions, type OutputOf } from '@airlock/protocol';
import { useState, type ReactNode } from 'react';
import '../common/console.css';
import { useAction, useOperation } from '../../app/api';
import { ErrorMessage, roleSessionName } from '../../app/errors';
import { Loading } from '../../app/forms';
import { useRoleSession } from '../../app/identity';
import { Link } from '../../app/router';
import { formatTime } from '../common/time';

type Session = OutputOf<typeof sessions.DescribeSessions>['Sessions'][number];

function TerminateButton({ session, onDone }: { session: Session; onDone: () => void }): ReactNode {
  const terminate = useAction(sessions.TerminateSession);
  return (
    <>
      <button
        type="button"
        disabled={terminate.pending}
        onClick={() => {
          void terminate.run({ SessionId: session.SessionId }).then((done) => {
            if (done !== undefined) onDone();
          });
        }}
      >
        Terminate<span className="visually-hidden"> {session.SessionId}</span>
      </button>
      <ErrorMessage error={terminate.error} />
    </>
  );
}

function SessionTable({ state }: { state: 'Active' | 'History' }): ReactNode {
  const me = useRoleSession();
  const listed = useOperation(sessions.DescribeSessions, { State: state, MaxResults: 50 });
  const caption = state === 'Active' ? 'Active sessions' : 'Session history';
  if (listed.error !== undefined) return <ErrorMessage error={listed.error} />;
  if (listed.data === undefined) return <Loading what={caption.toLowerCase()} />;
  if (listed.data.Sessions.length === 0) return <p>{state === 'Active' ? 'No session is open.' : 'No session in the last 30 days.'}</p>;
  return (
    <table>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Session</th>
          <th scope="col">Target</th>
          <th scope="col">Owner</th>
          <th scope="col">Status</th>
          <th scope="col">Started</th>
          {state === 'History' ? <th scope="col">Ended</th> : <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {listed.data.Sessions.map((session) => (
          <tr key={session.SessionId}>
            <td>
              <Link to={`/console/sessions/${encodeURIComponent(session.SessionId)}`} className="mono">
                {session.SessionId}
              </Link>
            </td>
            <td className="mono">{session.Target}</td>
            <td>{session.Owner === me.arn ? 'you' : roleSessionName(session.Owner)}</td>
            <td>{session.Status}</td>
            <td>{formatTime(session.StartDate)}</td>
            {state === 'History' ? (
              <td>{session.EndDate === undefined ? '' : formatTime(session.EndDate)}</td>
            ) : (
              // Anyone's, as AWS's console offers: the policy decides (an administrator's allows it; the guide's, one's own only).
              <td>
                <TerminateButton session={session} onDone={listed.reload} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SessionsPage(): ReactNode {
  const [state, setState] = useState<'Active' | 'History'>('Active');
  return (
    <>
      <div className="tabs" role="group" aria-label="Which sessions">
        {(['Active', 'History'] as const).map((choice) => (
          <button
            key={choice}
            type="button"
            aria-pressed={state === choice}
            className={state === choice ? 'primary' : ''}
            onClick={() => {
              setState(choice);
            }}
          >
            {choice === 'Active' ? 'Active sessions' : 'Session history'}
          </button>
        ))}
      </div>
      <SessionTable key={state} state={state} />
    </>
  );
}
