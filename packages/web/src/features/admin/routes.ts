/**
 * The administration pages' routes, each loaded on first show (the policy editor brings the
 * policy engine); routes.tsx spreads them into the app's table, and the console's navigation
 * has one entry for them all.
 */
import type { ComponentType } from 'react';
import type { NavEntry } from '../../app/layout';
import { lazyPage, type PageProps, type Route } from '../../app/router';

const page = <Name extends string>(load: () => Promise<Record<Name, ComponentType<PageProps>>>, name: Name) =>
  lazyPage(async () => {
    const [module, nav] = await Promise.all([load(), import('./admin-nav')]);
    return { [name]: nav.withAdminNav(module[name]) } as Record<Name, ComponentType<PageProps>>;
  }, name);

export const ADMIN_ROUTES: readonly Route[] = [
  { path: '/console/admin', title: 'Administration', area: 'console', page: page(() => import('./admin-nav'), 'AdminHome') },
  { path: '/console/admin/users', title: 'Users', area: 'console', page: page(() => import('./users-page'), 'UsersPage') },
  { path: '/console/admin/groups', title: 'Groups', area: 'console', page: page(() => import('./groups-page'), 'GroupsPage') },
  { path: '/console/admin/permission-sets', title: 'Permission sets', area: 'console', page: page(() => import('./permission-sets-page'), 'PermissionSetsPage') },
  { path: '/console/admin/activations', title: 'Activations', area: 'console', page: page(() => import('./activations-page'), 'ActivationsPage') },
  { path: '/console/admin/instance-tags', title: 'Instance tags', area: 'console', page: page(() => import('./instance-tags-page'), 'InstanceTagsPage') },
  { path: '/console/admin/settings', title: 'Settings', area: 'console', page: page(() => import('./settings-page'), 'SettingsPage') },
  { path: '/console/admin/event-rules', title: 'Event rules', area: 'console', page: page(() => import('./event-rules-page'), 'EventRulesPage') },
];

export const ADMIN_NAV: NavEntry = { label: 'Administration', to: '/console/admin' };
