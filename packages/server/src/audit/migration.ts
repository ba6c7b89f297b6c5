/**
 * Migration 0004-audit-chain: the hash chain (prev_hash, hash) and the columns LookupEvents
 * filters on (user_name, access_key_id, and the audit_event_resources table), with their
 * indexes. Records written before it are chained here, in seq order, as they stand.
 */
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { chainHash, GENESIS_HASH, identityColumns } from './chain.js';
import { resourcesOf } from './resources.js';

/** The tables as this migration leaves them (not as later ones may). */
interface ChainTables {
  audit_events: {
    seq: number;
    record: string;
    prev_hash: string;
    hash: string;
    user_name: string | null;
    access_key_id: string | null;
  };
  audit_event_resources: { seq: number; resource_type: string; resource_name: string };
}

const BACKFILL_PAGE = 500;

export const auditChainMigration: Migration = {
  async up(untyped: Kysely<unknown>) {
    const db = untyped as unknown as Kysely<ChainTables>;
    // One column per statement: SQLite adds one at a time. NOT NULL needs a default on SQLite;
    // every row gets its real value below, and every new row is written with one.
    await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('audit_events').addColumn('hash', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('audit_events').addColumn('user_name', 'text').execute();
    await db.schema.alterTable('audit_events').addColumn('access_key_id', 'text').execute();
    for (const column of ['event_name', 'event_source', 'user_name', 'access_key_id', 'read_only'] as const) {
      await db.schema.createIndex(`audit_events_${column}_time`).on('audit_events').columns([column, 'event_time']).execute();
    }
    await db.schema
      .createTable('audit_event_resources')
      .addColumn('seq', 'bigint', (c) => c.notNull().references('audit_events.seq').onDelete('cascade'))
      .addColumn('resource_type', 'text', (c) => c.notNull())
      .addColumn('resource_name', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('audit_event_resources_pk', ['seq', 'resource_type', 'resource_name'])
      .execute();
    await db.schema.createIndex('audit_event_resources_name').on('audit_event_resources').columns(['resource_name', 'seq']).execute();
    await db.schema.createIndex('audit_event_resources_type').on('audit_event_resources').columns(['resource_type', 'seq']).execute();

    let prevHash = GENESIS_HASH;
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = await db.selectFrom('audit_events').select(['seq', 'record']).where('seq', '>', after).orderBy('seq').limit(BACKFILL_PAGE).execute();
      for (const row of rows) {
        const record = JSON.parse(row.record) as unknown;
        const hash = chainHash(row.seq, prevHash, record);
        await db
          .updateTable('audit_events')
          .set({ prev_hash: prevHash, hash, ...identityColumns(record) })
          .where('seq', '=', row.seq)
          .execute();
        const resources = resourcesOf(record);
        if (resources.length > 0) {
          await db
            .insertInto('audit_event_resources')
            .values(resources.map((resource) => ({ seq: row.seq, resource_type: resource.type, resource_name: resource.name })))
            .execute();
        }
        prevHash = hash;
        after = row.seq;
      }
      if (rows.length < BACKFILL_PAGE) break;
    }
  },
};
