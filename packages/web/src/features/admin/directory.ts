/** The directory as the admin pages need it: every user and group, and how to name them. */
import { identitystore, type OutputOf } from '@airlock/protocol';
import { call } from '../../app/api';
import { allPages } from './parts';

export type User = OutputOf<typeof identitystore.ListUsers>['Users'][number];
export type Group = OutputOf<typeof identitystore.ListGroups>['Groups'][number];

export function listAllUsers(): Promise<User[]> {
  return allPages(async (next) => {
    const page = await call(identitystore.ListUsers, { MaxResults: 100, ...(next === undefined ? {} : { NextToken: next }) });
    return { items: page.Users, next: page.NextToken };
  });
}

export function listAllGroups(): Promise<Group[]> {
  return allPages(async (next) => {
    const page = await call(identitystore.ListGroups, { MaxResults: 100, ...(next === undefined ? {} : { NextToken: next }) });
    return { items: page.Groups, next: page.NextToken };
  });
}

export function emailOf(user: User): string | undefined {
  return user.Emails?.[0]?.Value;
}

export function fullName(user: User): string {
  return user.DisplayName ?? [user.Name?.GivenName, user.Name?.FamilyName].filter((part) => part !== undefined).join(' ');
}
