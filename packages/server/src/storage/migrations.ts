/**
 * Migrations, in order. The same list runs on SQLite and PostgreSQL at every start; Kysely
 * records which have run. Never edit a migration that has shipped: add the next one.
 *
 * Nodes of two adjacent versions share one database during an upgrade, so a migration only
 * expands: new tables, new columns that are nullable or have a default, new indexes. Dropping or
 * renaming waits for a later release that no longer uses the old shape (docs/deployment.md).
 */
import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { auditChainMigration } from '../audit/migration.js';
import { eventRulesMigration } from '../events/migration.js';

/**
 * The schema version: bump it by one in the first change of a release that adds migrations (once
 * per release, however many it adds). A node runs on a database of its version or the next.
 */
export const SCHEMA_VERSION = 1;

const migrations: Record<string, Migration> = {
  '0001-identity': {
    async up(db: Kysely<unknown>) {
      await db.schema.createTable('settings').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
      await db.schema
        .createTable('users')
        .addColumn('user_id', 'text', (c) => c.primaryKey())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('user_name_key', 'text', (c) => c.notNull().unique())
        .addColumn('email_key', 'text')
        .addColumn('profile', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('password_must_change', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_email_key').on('users').column('email_key').execute();
      await db.schema
        .createTable('groups')
        .addColumn('group_id', 'text', (c) => c.primaryKey())
        .addColumn('display_name', 'text', (c) => c.notNull())
        .addColumn('display_name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('memberships')
        .addColumn('membership_id', 'text', (c) => c.primaryKey())
        .addColumn('group_id', 'text', (c) => c.notNull().references('groups.group_id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('memberships_group_user', ['group_id', 'user_id'])
        .execute();
      await db.schema.createIndex('memberships_user').on('memberships').column('user_id').execute();
      await db.schema
        .createTable('one_time_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('event_time', 'bigint', (c) => c.notNull())
        .addColumn('event_source', 'text', (c) => c.notNull())
        .addColumn('event_name', 'text', (c) => c.notNull())
        .addColumn('read_only', 'integer', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_events_time').on('audit_events').column('event_time').execute();
    },
  },
  '0002-sign-in': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('mfa_devices')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('verified', 'integer', (c) => c.notNull())
        .addColumn('last_used_step', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('mfa_devices_user').on('mfa_devices').column('user_id').execute();
      await db.schema
        .createTable('auth_flows')
        .addColumn('flow_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('email_code_hash', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('device_known', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('portal_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('mfa', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('portal_sessions_user').on('portal_sessions').column('user_id').execute();
      await db.schema
        .createTable('trusted_devices')
        .addColumn('key_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('throttles')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0003-device-authorization': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('device_authorizations')
        .addColumn('device_code_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_code', 'text', (c) => c.notNull().unique())
        .addColumn('client_name', 'text')
        .addColumn('approved_user_id', 'text', (c) => c.references('users.user_id').onDelete('cascade'))
        .addColumn('approved_mfa', 'integer', (c) => c.notNull())
        .addColumn('last_poll_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0004-access': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('accounts')
        .addColumn('account_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('joined_method', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('permission_sets')
        .addColumn('ps_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('session_duration', 'text', (c) => c.notNull())
        .addColumn('relay_state', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('inline_policy', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('permission_set_managed_policies')
        .addColumn('ps_id', 'text', (c) => c.notNull().references('permission_sets.ps_id').onDelete('cascade'))
        .addColumn('policy_arn', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('permission_set_managed_policies_pk', ['ps_id', 'policy_arn'])
        .execute();
      await db.schema
        .createTable('assignments')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addColumn('ps_id', 'text', (c) => c.notNull().references('permission_sets.ps_id'))
        .addColumn('principal_type', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('assignments_pk', ['account_id', 'ps_id', 'principal_type', 'principal_id'])
        .execute();
      await db.schema.createIndex('assignments_principal').on('assignments').columns(['principal_type', 'principal_id']).execute();
      await db.schema
        .createTable('provisioned')
        .addColumn('ps_id', 'text', (c) => c.notNull().references('permission_sets.ps_id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addPrimaryKeyConstraint('provisioned_pk', ['ps_id', 'account_id'])
        .execute();
      await db.schema
        .createTable('access_requests')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('role_sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('ps_id', 'text', (c) => c.notNull())
        .addColumn('mfa_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema.createIndex('role_sessions_user').on('role_sessions').column('user_id').execute();
    },
  },
  '0006-fleet': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('activations')
        .addColumn('activation_id', 'text', (c) => c.primaryKey())
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('default_instance_name', 'text')
        .addColumn('iam_role', 'text', (c) => c.notNull())
        .addColumn('registration_limit', 'integer', (c) => c.notNull())
        .addColumn('registrations_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .execute();
      await db.schema
        .createTable('instances')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('activation_id', 'text')
        .addColumn('iam_role', 'text')
        .addColumn('name', 'text')
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text')
        .addColumn('public_key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('registered_at', 'bigint', (c) => c.notNull())
        .addColumn('deregistered_at', 'bigint')
        .addColumn('agent_version', 'text')
        .addColumn('platform_type', 'text')
        .addColumn('platform_name', 'text')
        .addColumn('platform_version', 'text')
        .addColumn('computer_name', 'text')
        .addColumn('ip_address', 'text')
        .addColumn('inventory', 'text')
        .addColumn('last_ping_at', 'bigint')
        .addColumn('connected_node', 'text')
        .addColumn('connection_id', 'text')
        .addColumn('connected_at', 'bigint')
        .execute();
      await db.schema.createIndex('instances_activation').on('instances').column('activation_id').execute();
      await db.schema.createIndex('instances_deregistered').on('instances').column('deregistered_at').execute();
      await db.schema.createIndex('instances_connected').on('instances').column('connected_at').execute();
      await db.schema
        .createTable('instance_tags')
        .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.instance_id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('instance_tags_pk', ['instance_id', 'key'])
        .execute();
      await db.schema.createIndex('instance_tags_key').on('instance_tags').columns(['key', 'value']).execute();
    },
  },
  '0004-audit-chain': auditChainMigration,
  /** Every activation and instance belongs to one account; cloud instances also to a region. */
  '0007-fleet-accounts': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('activations').addColumn('account_id', 'text').execute();
      await db.schema.alterTable('instances').addColumn('account_id', 'text').execute();
      await db.schema.alterTable('instances').addColumn('region', 'text').execute();
      // Rows made before accounts were recorded belong to the management account.
      const management = sql`(select value from settings where key = 'management_account_id')`;
      await sql`update activations set account_id = ${management} where account_id is null`.execute(db);
      await sql`update instances set account_id = ${management} where account_id is null`.execute(db);
      await db.schema.createIndex('instances_account').on('instances').columns(['account_id', 'instance_id']).execute();
      await db.schema.createIndex('activations_account').on('activations').columns(['account_id', 'activation_id']).execute();
    },
  },
  '0009-sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sessions')
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('owner_arn', 'text', (c) => c.notNull())
        .addColumn('owner_user_id', 'text', (c) => c.notNull())
        .addColumn('document_name', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('work', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('details', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('ended_at', 'bigint')
        .addColumn('idle_timeout_ms', 'bigint', (c) => c.notNull())
        .addColumn('max_duration_ms', 'bigint')
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.unique())
        .addColumn('token_expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('sessions_account_started').on('sessions').columns(['account_id', 'started_at']).execute();
      await db.schema.createIndex('sessions_status').on('sessions').columns(['status']).execute();
    },
  },
  /** Cloud join: when an EC2 instance last launched, from its identity document (a new key needs a later launch). */
  '0008-cloud-join': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('instances').addColumn('launched_at', 'bigint').execute();
    },
  },
  /** Session documents an account publishes (CreateDocument), SSM-SessionManagerRunShell among them, with their versions. */
  '0010-session-documents': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('session_documents')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('default_version', 'integer', (c) => c.notNull())
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_documents_pk', ['account_id', 'name'])
        .execute();
      await db.schema
        .createTable('session_document_versions')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('version_name', 'text')
        .addColumn('target_type', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_document_versions_pk', ['account_id', 'name', 'version'])
        .addForeignKeyConstraint('session_document_versions_document', ['account_id', 'name'], 'session_documents', ['account_id', 'name'], (c) => c.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('session_document_versions_name').on('session_document_versions').columns(['account_id', 'name', 'version_name']).unique().execute();
    },
  },
  /**
   * The log store (logs:*): groups of an account, their streams, and the streams' events. Names
   * sort by their characters' codes on both databases (PostgreSQL's "C" collation), as AWS
   * lists them and as keyset pages need. Events are read by stream in time order (GetLogEvents)
   * and by group in time order (FilterLogEvents, the retention purge).
   */
  '0011-log-store': {
    async up(db: Kysely<unknown>) {
      const name = db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : 'text';
      await db.schema
        .createTable('log_groups')
        .addColumn('group_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('retention_days', 'integer')
        .addColumn('tags', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('log_groups_account_name').on('log_groups').columns(['account_id', 'name']).unique().execute();
      await db.schema
        .createTable('log_streams')
        .addColumn('stream_id', 'text', (c) => c.primaryKey())
        .addColumn('group_id', 'text', (c) => c.notNull().references('log_groups.group_id').onDelete('cascade'))
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('first_event_time', 'bigint')
        .addColumn('last_event_time', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_ingestion_time', 'bigint')
        .addColumn('stored_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('last_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('log_streams_group_name').on('log_streams').columns(['group_id', 'name']).unique().execute();
      await db.schema.createIndex('log_streams_group_last_event').on('log_streams').columns(['group_id', 'last_event_time', 'name']).execute();
      await db.schema
        .createTable('log_events')
        .addColumn('stream_id', 'text', (c) => c.notNull().references('log_streams.stream_id').onDelete('cascade'))
        .addColumn('event_time', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('ingested_at', 'bigint', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_events_pk', ['stream_id', 'event_time', 'seq'])
        .execute();
      await db.schema.createIndex('log_events_group_time').on('log_events').columns(['group_id', 'event_time', 'stream_id', 'seq']).execute();
    },
  },
  /** The nonce an agent signs to open a session's data channel: a session revived after a restart needs it. */
  '0014-session-records': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('agent_nonce', 'text').execute();
    },
  },
  /** The object outbox: uploads of session recordings, retried until the object store takes them (objects/outbox.ts). */
  '0012-object-outbox': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('object_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('spool_id', 'text')
        .addColumn('spool_file', 'text')
        .addColumn('body', 'text')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('encryption', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint')
        .execute();
      await db.schema.createIndex('object_outbox_due').on('object_outbox').columns(['done_at', 'next_attempt_at']).execute();
    },
  },
  /** Event rules, their targets and the delivery queue (events:*). */
  '0013-event-rules': eventRulesMigration,
  /** Where each session's record goes when it ends (the preferences as they were at its start). */
  '0015-session-recording': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('recording', 'text').execute();
    },
  },
  /** Users linked to an external identity source, and browser sign-ins to one in progress (docs/federation.md). */
  '0016-identity-sources': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('external_users')
        .addColumn('source_key', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().unique().references('users.user_id').onDelete('cascade'))
        .addColumn('last_sign_in_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('external_users_key', ['source_key', 'subject'])
        .execute();
      await db.schema
        .createTable('federation_flows')
        .addColumn('binding_hash', 'text', (c) => c.primaryKey())
        .addColumn('source_type', 'text', (c) => c.notNull())
        .addColumn('sealed_state', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  /** SCIM provisioning: its bearer tokens, deactivated users, the provider's external ids (docs/federation.md). */
  '0018-scim': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('scim_tokens')
        .addColumn('token_id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
      await db.schema.alterTable('users').addColumn('scim_external_id', 'text').execute();
      await db.schema.alterTable('groups').addColumn('scim_external_id', 'text').execute();
      await db.schema.alterTable('groups').addColumn('updated_at', 'bigint').execute();
    },
  },
  /** SAML assertions already used, so that a captured one cannot sign in again (docs/federation.md). */
  '0019-saml': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('saml_used_assertions')
        .addColumn('assertion_key', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('saml_used_assertions_expiry').on('saml_used_assertions').column('expires_at').execute();
    },
  },
  /** Several nodes: who they are and where, and each instance's lease on the node holding its control channel (docs/fleet.md). */
  '0020-nodes': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('nodes')
        .addColumn('node_name', 'text', (c) => c.primaryKey())
        .addColumn('advertise_url', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .addColumn('stopped_at', 'bigint')
        .execute();
      await db.schema.alterTable('instances').addColumn('lease_expires_at', 'bigint').execute();
    },
  },
  /** Security keys and passkeys (WebAuthn) as MFA devices, and the challenge of a WEB_AUTHN sign-in (docs/identity.md). */
  '0021-webauthn': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webauthn_credentials')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('credential_id', 'text', (c) => c.notNull().unique())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('sign_count', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('webauthn_credentials_user').on('webauthn_credentials').column('user_id').execute();
      await db.schema
        .createTable('webauthn_registrations')
        .addColumn('challenge', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('auth_flows').addColumn('webauthn_challenge', 'text').execute();
    },
  },
  /** Several nodes: a session that moved off a dead node has its record in segments, one per carrier, gathered here (docs/fleet.md). */
  '0022-record-segments': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('carriers', 'text').execute();
      await db.schema.alterTable('sessions').addColumn('segments_delivered_at', 'bigint').execute();
      await db.schema
        .createTable('record_segments')
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('node_id', 'text', (c) => c.notNull())
        .addColumn('part', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('record_segments_pk', ['session_id', 'node_id', 'part'])
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
