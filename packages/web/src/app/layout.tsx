/**
 * The frame of every page: a skip link, the top bar (who is signed in: the portal user, or in
 * the console the role session and its account), the console's navigation, and the page under
 * a heading that takes the focus on each navigation so screen readers announce the new page.
 */
import { portal } from '@airlock/protocol';
import { Suspense, useEffect, useRef, type ReactNode } from 'react';
import { useAction } from './api';
import { PageErrorBoundary } from './error-boundary';
import { ErrorMessage } from './errors';
import { Loading } from './forms';
import { ConsoleGate, PortalGate, usePortalUser, useRoleSession } from './identity';
import { Link, matchRoute, navigate, useLocation, type Area, type Route } from './router';

export interface NavEntry {
  readonly label: string;
  readonly to: string;
}

export function App({ routes, consoleNav }: { routes: readonly Route[]; consoleNav: readonly NavEntry[] }): ReactNode {
  const location = useLocation();
  const matched = matchRoute(routes, location.pathname);
  const title = matched?.route.title ?? 'Page not found';
  const area: Area = matched?.route.area ?? 'public';
  useEffect(() => {
    document.title = `${title} · Airlock`;
  }, [title]);
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    heading.current?.focus();
  }, [location.pathname]);
  const Page = matched?.route.page;
  const body = (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <Link to="/portal" className="brand">
          Airlock
        </Link>
        {area === 'portal' && <PortalBar />}
        {area === 'console' && <ConsoleBar />}
      </header>
      {area === 'console' && <ConsoleNav entries={consoleNav} current={location.pathname} />}
      <main id="main" className={`area-${area}`}>
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {Page === undefined ? (
          <NotFound />
        ) : (
          <PageErrorBoundary key={location.pathname}>
            <Suspense fallback={<Loading what="the page" />}>
              <Page params={matched?.params ?? {}} query={location.searchParams} />
            </Suspense>
          </PageErrorBoundary>
        )}
      </main>
    </>
  );
  // What a gate says instead of the page still has the bar and the page's heading (and a way out).
  const framed = (content: ReactNode): ReactNode => (
    <>
      <header className="top-bar">
        <Link to="/portal" className="brand">
          Airlock
        </Link>
      </header>
      <main id="main" className={`area-${area}`}>
        <h1 tabIndex={-1}>{title}</h1>
        {content}
      </main>
    </>
  );
  if (area === 'portal') return <PortalGate frame={framed}>{body}</PortalGate>;
  if (area === 'console') {
    return (
      <PortalGate frame={framed}>
        <ConsoleGate frame={framed}>{body}</ConsoleGate>
      </PortalGate>
    );
  }
  return body;
}

function SignOutButton(): ReactNode {
  const signOut = useAction(portal.SignOut);
  const onClick = async (): Promise<void> => {
    if ((await signOut.run({})) !== undefined) navigate('/portal/sign-in?signed-out=1');
  };
  return (
    <>
      <button
        type="button"
        className="link-button"
        onClick={() => {
          void onClick();
        }}
        disabled={signOut.pending}
      >
        Sign out
      </button>
      <ErrorMessage error={signOut.error} />
    </>
  );
}

function PortalBar(): ReactNode {
  const user = usePortalUser();
  return (
    <nav className="bar-links" aria-label="Portal">
      <Link to="/portal">Accounts</Link>
      <Link to="/portal/mfa-devices">MFA devices</Link>
      <Link to="/portal/password">Password</Link>
      <span className="who">
        Signed in as <strong>{user?.UserName}</strong>
      </span>
      <SignOutButton />
    </nav>
  );
}

function ConsoleBar(): ReactNode {
  const session = useRoleSession();
  return (
    <div className="bar-links">
      <span className="who" title={session.arn}>
        <span className="role-session">{session.name}</span>
        <span className="bar-account">
          {' '}
          @ {session.accountName === undefined ? '' : `${session.accountName} `}
          <span className="mono">{session.accountId}</span>
        </span>
      </span>
      <Link to="/portal">Portal</Link>
      <SignOutButton />
    </div>
  );
}

function ConsoleNav({ entries, current }: { entries: readonly NavEntry[]; current: string }): ReactNode {
  return (
    <nav className="console-nav" aria-label="Console">
      <ul>
        {entries.map((entry) => (
          <li key={entry.to}>
            <Link to={entry.to} {...(current === entry.to || (entry.to !== '/console' && current.startsWith(`${entry.to}/`)) ? { 'aria-current': 'page' as const } : {})}>
              {entry.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function NotFound(): ReactNode {
  return (
    <p>
      There is no page at this address. <Link to="/portal">Go to the portal</Link>.
    </p>
  );
}
