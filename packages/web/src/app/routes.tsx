/**
 * Every page of the app, one line each: its path, title, who may see it, and its component.
 * A feature adds its page here (and, for the console, an entry in CONSOLE_NAV).
 */
import { ADMIN_NAV, ADMIN_ROUTES } from '../features/admin/routes';
import { AuditPage } from '../features/audit/audit-page';
import { ConsoleHome } from '../features/console/home';
import { InstancesPage } from '../features/instances/instances-page';
import { LogGroupPage, LogGroupsPage, LogStreamPage } from '../features/logs/log-groups-page';
import { SessionManagerPage } from '../features/sessions/session-manager-page';
import { SessionsPage } from '../features/sessions/sessions-page';
import { AcceptInvitationPage } from '../features/portal/accept-invitation';
import { AccountsPage } from '../features/portal/accounts';
import { ChangePasswordPage } from '../features/portal/change-password';
import { DeviceApprovalPage } from '../features/portal/device-approval';
import { Redirect } from '../features/portal/redirect';
import { SignInPage } from '../features/portal/sign-in';
import type { NavEntry } from './layout';
import { lazyPage, type Route } from './router';

export const ROUTES: readonly Route[] = [
  { path: '/', title: 'Airlock', area: 'public', page: Redirect },
  { path: '/portal/sign-in', title: 'Sign in', area: 'public', page: SignInPage },
  { path: '/portal/accept-invitation', title: 'Set your password', area: 'public', page: AcceptInvitationPage },
  { path: '/portal/reset-password', title: 'Choose a new password', area: 'public', page: AcceptInvitationPage },
  { path: '/portal', title: 'Accounts', area: 'portal', page: AccountsPage },
  { path: '/portal/mfa-devices', title: 'MFA devices', area: 'portal', page: lazyPage(() => import('../features/portal/mfa-devices'), 'MfaDevicesPage') },
  { path: '/portal/device', title: 'Approve a device sign-in', area: 'portal', page: DeviceApprovalPage },
  { path: '/portal/password', title: 'Change your password', area: 'portal', page: ChangePasswordPage },
  { path: '/console', title: 'Console home', area: 'console', page: ConsoleHome },
  { path: '/console/instances', title: 'Instances', area: 'console', page: InstancesPage },
  { path: '/console/session-manager', title: 'Session Manager', area: 'console', page: SessionManagerPage },
  { path: '/console/session-manager/terminal', title: 'Shell', area: 'console', page: lazyPage(() => import('../features/sessions/terminal-page'), 'TerminalPage') },
  { path: '/console/sessions', title: 'Sessions', area: 'console', page: SessionsPage },
  { path: '/console/sessions/:sessionId', title: 'Session', area: 'console', page: lazyPage(() => import('../features/sessions/session-page'), 'SessionPage') },
  { path: '/console/logs', title: 'Log groups', area: 'console', page: LogGroupsPage },
  { path: '/console/logs/:group', title: 'Log group', area: 'console', page: LogGroupPage },
  { path: '/console/logs/:group/:stream', title: 'Log stream', area: 'console', page: LogStreamPage },
  { path: '/console/audit', title: 'Audit', area: 'console', page: AuditPage },
  ...ADMIN_ROUTES,
];

/** The console's navigation, in order. */
export const CONSOLE_NAV: readonly NavEntry[] = [
  { label: 'Console home', to: '/console' },
  { label: 'Instances', to: '/console/instances' },
  { label: 'Session Manager', to: '/console/session-manager' },
  { label: 'Sessions', to: '/console/sessions' },
  { label: 'Log groups', to: '/console/logs' },
  { label: 'Audit', to: '/console/audit' },
  ADMIN_NAV,
];
