/**
 * Who is using the page. Portal pages need a signed-in portal session (portal:GetSession);
 * console pages need a role session (sts:GetCallerIdentity answers with an assumed-role ARN).
 * The gates load them, send people who are signed out to the sign-in page, and give pages the
 * identity through hooks.
 */
import { AirlockApiError } from '@airlock/client';
import { portal, roleSessions, type OutputOf } from '@airlock/protocol';
import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { useOperation } from './api';
import { ErrorMessage, roleSessionName } from './errors';
import { Loading } from './forms';
import { Link, navigate } from './router';

export type PortalUser = OutputOf<typeof portal.GetSession>;

export interface RoleSession {
  /** `arn:aws:sts::{account}:assumed-role/AWSReservedSSO_{PermissionSet}_{16 hex}/{user}`. */
  readonly arn: string;
  /** `AWSReservedSSO_{PermissionSet}_{16 hex}/{user}`. */
  readonly name: string;
  readonly accountId: string;
  /** The account's name, when the portal lists it. */
  readonly accountName: string | undefined;
}

const PortalUserContext = createContext<PortalUser | undefined>(undefined);
const RoleSessionContext = createContext<RoleSession | undefined>(undefined);

/** The signed-in portal user; only inside portal and console pages. */
export function usePortalUser(): PortalUser | undefined {
  return useContext(PortalUserContext);
}

/** The console's role session; only inside console pages. */
export function useRoleSession(): RoleSession {
  const session = useContext(RoleSessionContext);
  if (session === undefined) throw new Error('useRoleSession is for console pages (area "console").');
  return session;
}

export function signInPath(next: string): string {
  return `/portal/sign-in?next=${encodeURIComponent(next)}`;
}

const here = (): string => window.location.pathname + window.location.search;

const isUnauthorized = (error: unknown): boolean => error instanceof AirlockApiError && error.code === 'UnauthorizedException';

/** How a gate shows what it says instead of the page (loading, an error, where to go): inside the page's frame. */
export type GateFrame = (content: ReactNode) => ReactNode;
const unframed: GateFrame = (content) => content;

export function PortalGate({ children, frame = unframed }: { children: ReactNode; frame?: GateFrame }): ReactNode {
  const session = useOperation(portal.GetSession, {});
  const signedOut = isUnauthorized(session.error);
  useEffect(() => {
    if (signedOut) navigate(signInPath(here()), { replace: true });
  }, [signedOut]);
  if (session.data !== undefined) return <PortalUserContext.Provider value={session.data}>{children}</PortalUserContext.Provider>;
  if (session.error !== undefined && !signedOut) return frame(<ErrorMessage error={session.error} />);
  return frame(<Loading what="your session" />);
}

export function ConsoleGate({ children, frame = unframed }: { children: ReactNode; frame?: GateFrame }): ReactNode {
  const caller = useOperation(roleSessions.GetCallerIdentity, {});
  const accounts = useOperation(roleSessions.ListAccounts, {});
  const signedOut = isUnauthorized(caller.error);
  useEffect(() => {
    // The role session ended (expired, revoked): back to the portal, which asks to sign in if need be.
    if (signedOut) navigate('/portal', { replace: true });
  }, [signedOut]);
  if (caller.error !== undefined && !signedOut) return frame(<ErrorMessage error={caller.error} />);
  if (caller.data === undefined || accounts.loading) return frame(<Loading what="your role session" />);
  if (!caller.data.Arn.includes(':assumed-role/')) {
    return frame(
      <div className="notice" role="status">
        <p>The console works in a role session.</p>
        <p>
          <Link to="/portal">Choose an account and a permission set in the portal</Link>, then open the Management console.
        </p>
      </div>,
    );
  }
  const accountId = caller.data.Account;
  const session: RoleSession = {
    arn: caller.data.Arn,
    name: roleSessionName(caller.data.Arn),
    accountId,
    accountName: accounts.data?.AccountList.find((account) => account.AccountId === accountId)?.AccountName,
  };
  return <RoleSessionContext.Provider value={session}>{children}</RoleSessionContext.Provider>;
}
