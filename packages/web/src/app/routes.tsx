/**
 * Every page of the app, one line each: its path, title, who may see it, and its component.
 * A feature adds its page here (and, for the console, an entry in CONSOLE_NAV).
 */
import { ConsoleHome } from '../features/console/home';
import { AcceptInvitationPage } from '../features/portal/accept-invitation';
import { AccountsPage } from '../features/portal/accounts';
import { DeviceApprovalPage } from '../features/portal/device-approval';
import { MfaDevicesPage } from '../features/portal/mfa-devices';
import { Redirect } from '../features/portal/redirect';
import { SignInPage } from '../features/portal/sign-in';
import type { NavEntry } from './layout';
import type { Route } from './router';

export const ROUTES: readonly Route[] = [
  { path: '/', title: 'Airlock', area: 'public', page: Redirect },
  { path: '/portal/sign-in', title: 'Sign in', area: 'public', page: SignInPage },
  { path: '/portal/accept-invitation', title: 'Set your password', area: 'public', page: AcceptInvitationPage },
  { path: '/portal/reset-password', title: 'Choose a new password', area: 'public', page: AcceptInvitationPage },
  { path: '/portal', title: 'Accounts', area: 'portal', page: AccountsPage },
  { path: '/portal/mfa-devices', title: 'MFA devices', area: 'portal', page: MfaDevicesPage },
  { path: '/portal/device', title: 'Approve a device sign-in', area: 'portal', page: DeviceApprovalPage },
  { path: '/console', title: 'Console home', area: 'console', page: ConsoleHome },
];

/** The console's navigation, in order. */
export const CONSOLE_NAV: readonly NavEntry[] = [{ label: 'Console home', to: '/console' }];
