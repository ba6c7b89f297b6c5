/**
 * The tables, as Kysely sees them. Times are epoch milliseconds; booleans are 0/1 integers; JSON
 * is text. These choices read the same on SQLite and PostgreSQL.
 */
export interface SettingsTable {
  key: string;
  value: string;
}

export interface UsersTable {
  user_id: string;
  user_name: string;
  /** Lower-cased: user names are unique without regard to case. */
  user_name_key: string;
  /** The primary email, lower-cased, for GetUserId and sign-in codes. */
  email_key: string | null;
  /** The profile fields of Identity Store's User, as JSON. */
  profile: string;
  password_hash: string | null;
  /** 1 when the password was set by an admin and must change at the next sign-in. */
  password_must_change: number;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable {
  group_id: string;
  display_name: string;
  display_name_key: string;
  description: string | null;
  created_at: number;
}

export interface MembershipsTable {
  membership_id: string;
  group_id: string;
  user_id: string;
  created_at: number;
}

export interface OneTimeTokensTable {
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: string;
  user_id: string;
  purpose: 'invitation' | 'password_reset';
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface AuditEventsTable {
  /** Assigned by the writer, one after the last: the trail is a chain, appended in order. */
  seq: number;
  event_id: string;
  event_time: number;
  event_source: string;
  event_name: string;
  read_only: number;
  /** The whole CloudTrail-shaped record, as JSON. */
  record: string;
}

export interface Database {
  settings: SettingsTable;
  users: UsersTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  one_time_tokens: OneTimeTokensTable;
  audit_events: AuditEventsTable;
}
