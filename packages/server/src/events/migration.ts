/**
 * Migration 0013-event-rules: rules, their targets, and the delivery queue. A delivery is one
 * event for one endpoint (a webhook URL, or one mail address); it stays PENDING until delivered
 * or given up, and is claimed by one node at a time (claimed_by, claimed_until).
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const eventRulesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('event_rules')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('event_pattern', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_rules_pk', ['account_id', 'name'])
      .execute();
    await db.schema
      .createTable('event_targets')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('rule_name', 'text', (c) => c.notNull())
      .addColumn('target_id', 'text', (c) => c.notNull())
      .addColumn('arn', 'text', (c) => c.notNull())
      .addColumn('http_parameters', 'text')
      .addColumn('max_retry_attempts', 'integer', (c) => c.notNull())
      .addColumn('max_event_age_seconds', 'integer', (c) => c.notNull())
      .addColumn('signing_secret', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('event_targets_pk', ['account_id', 'rule_name', 'target_id'])
      .addForeignKeyConstraint('event_targets_rule', ['account_id', 'rule_name'], 'event_rules', ['account_id', 'name'], (c) => c.onDelete('cascade'))
      .execute();
    await db.schema
      .createTable('event_deliveries')
      .addColumn('delivery_id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('rule_name', 'text', (c) => c.notNull())
      .addColumn('target_id', 'text', (c) => c.notNull())
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('detail_type', 'text', (c) => c.notNull())
      .addColumn('event_time', 'bigint', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('last_attempt_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('claimed_by', 'text')
      .addColumn('claimed_until', 'bigint')
      .execute();
    await db.schema.createIndex('event_deliveries_due').on('event_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('event_deliveries_rule').on('event_deliveries').columns(['account_id', 'rule_name', 'created_at']).execute();
  },
};
