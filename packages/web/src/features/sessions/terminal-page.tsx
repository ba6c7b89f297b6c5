/**
 * The browser shell, opened in a tab of its own by the Session Manager page
 * (`/console/session-manager/terminal?target=mi-…`): the terminal fills the window and follows
 * its size, a status line says whether the session is connected, reconnecting or over, and the
 * person may search the scrollback or terminate the session.
 */
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import '../common/console.css';
import { ErrorMessage } from '../../app/errors';
import { Link, type PageProps } from '../../app/router';
import { startLiveSession, type LiveSession, type SessionState } from './live-session';
import { fittedTerminal } from './xterm';

function describeState(state: SessionState): string {
  switch (state.kind) {
    case 'starting':
      return 'Starting the session…';
    case 'connected':
      return `Connected: session ${state.sessionId}`;
    case 'reconnecting':
      return `The connection dropped (${state.reason}); reconnecting…`;
    case 'ended':
      return state.message;
    case 'failed':
      return 'The session could not start.';
  }
}

export function TerminalPage({ query }: PageProps): ReactNode {
  const target = query.get('target') ?? '';
  const reason = query.get('reason') ?? '';
  const container = useRef<HTMLDivElement>(null);
  const live = useRef<LiveSession | undefined>(undefined);
  const search = useRef<SearchAddon | undefined>(undefined);
  const [state, setState] = useState<SessionState>({ kind: 'starting' });
  const [size, setSize] = useState({ cols: 0, rows: 0 });
  const [term, setTerm] = useState('');
  const [found, setFound] = useState(true);
  const [terminateError, setTerminateError] = useState<unknown>(undefined);

  useEffect(() => {
    const element = container.current;
    if (element === null || target === '') return;
    const { terminal, dispose } = fittedTerminal(element);
    const finder = new SearchAddon();
    terminal.loadAddon(finder);
    terminal.loadAddon(new WebLinksAddon());
    search.current = finder;
    setSize({ cols: terminal.cols, rows: terminal.rows });
    const sized = terminal.onResize(({ cols, rows }) => {
      setSize({ cols, rows });
    });
    live.current = startLiveSession(terminal, { Target: target, ...(reason === '' ? {} : { Reason: reason }) }, setState);
    return () => {
      sized.dispose();
      live.current?.close();
      live.current = undefined;
      dispose();
    };
  }, [target, reason]);

  if (target === '') {
    return (
      <p>
        No target was given. <Link to="/console/session-manager">Choose one in Session Manager</Link>.
      </p>
    );
  }
  const open = state.kind === 'connected' || state.kind === 'reconnecting';
  return (
    <div className="terminal-page">
      <div className="terminal-bar">
        <p className={`session-state state-${state.kind === 'ended' && state.clean ? 'exited' : state.kind}`} role="status" aria-live="polite">
          {describeState(state)}
        </p>
        <form
          className="terminal-search"
          role="search"
          onSubmit={(event) => {
            event.preventDefault();
            setFound(term === '' || (search.current?.findNext(term) ?? false));
          }}
        >
          <label htmlFor="terminal-search">Find in output</label>
          <input
            id="terminal-search"
            value={term}
            disabled={state.kind === 'failed'}
            onChange={(event) => {
              setTerm(event.target.value);
              setFound(true);
            }}
          />
          <button type="submit" disabled={state.kind === 'failed'}>
            Find
          </button>
          {!found && (
            <span className="hint" role="status">
              Not in the output.
            </span>
          )}
        </form>
        <button
          type="button"
          disabled={!open}
          onClick={() => {
            setTerminateError(undefined);
            live.current?.terminate().catch(setTerminateError);
          }}
        >
          Terminate
        </button>
      </div>
      {state.kind === 'failed' && <ErrorMessage error={state.error} />}
      <ErrorMessage error={terminateError} />
      {/* A session that could not start has no screen: an empty terminal under the error looked like a shell still loading. */}
      <div ref={container} className="shell-screen" hidden={state.kind === 'failed'} data-cols={size.cols} data-rows={size.rows} aria-label={`Shell on ${target}`} role="region" />
    </div>
  );
}
