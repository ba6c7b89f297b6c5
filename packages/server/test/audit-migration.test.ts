/**
 * Migration 0004-audit-chain on a trail written before it: the old records are chained in seq
 * order and indexed, they verify, and new records chain on after them. Both backends.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { GENESIS_HASH } from '@airlock/server/audit/chain';
import { AuditTrail } from '@airlock/server/audit/trail';
import { verifyTrail } from '@airlock/server/audit/verify';
import { openDatabase } from '@airlock/server/storage/db';
import { migrationProvider } from '@airlock/server/storage/migrations';
import { BACKENDS, temporaryDirectory, withSchema } from '@airlock/testkit';

/** audit_events as 0001-identity made it. */
interface OldTables {
  audit_events: { seq: number; event_id: string; event_time: number; event_source: string; event_name: string; read_only: number; record: string };
}

function oldRecord(seq: number, time: number, userId: string) {
  return {
    eventVersion: '1.08',
    eventID: randomUUID(),
    eventTime: new Date(time).toISOString(),
    eventSource: 'identitystore.amazonaws.com',
    eventName: 'CreateUser',
    awsRegion: 'local',
    userIdentity: { type: 'Root', accountId: '123456789012', arn: 'arn:aws:iam::123456789012:root', principalId: '123456789012' },
    sourceIPAddress: '127.0.0.1',
    userAgent: 'test',
    requestParameters: { UserName: `legacy-${seq}` },
    responseElements: { IdentityStoreId: 'd-0123456789', UserId: userId },
    requestID: randomUUID(),
    readOnly: false,
  };
}

for (const backend of BACKENDS) {
  describe(`migration 0004-audit-chain on ${backend}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('chains and indexes the records written before it; new records chain on', async () => {
      const directory = await temporaryDirectory();
      cleanups.push(directory.remove);
      let migrationTableSchema: string | undefined;
      let databaseUrl: string | undefined;
      let old: Kysely<OldTables>;
      if (backend === 'postgres') {
        const schema = await withSchema();
        cleanups.push(schema.drop);
        databaseUrl = schema.url;
        migrationTableSchema = /search_path=(\w+)/.exec(new URL(schema.url).searchParams.get('options') ?? '')?.[1];
        const types = new pg.TypeOverrides();
        types.setTypeParser(pg.types.builtins.INT8, Number);
        old = new Kysely<OldTables>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 2, types }) }) });
      } else {
        old = new Kysely<OldTables>({ dialect: new SqliteDialect({ database: new SQLite(join(directory.path, 'airlock.db')) }) });
      }
      // The database as the release before the chain left it, with three records.
      const migrated = await new Migrator({ db: old, provider: migrationProvider, ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }) }).migrateTo('0004-access');
      assert.equal(migrated.error, undefined);
      const time = Date.parse('2026-11-28T12:00:00Z');
      const userIds = [randomUUID(), randomUUID(), randomUUID()];
      for (const [index, userId] of userIds.entries()) {
        const record = oldRecord(index + 1, time + index, userId);
        await old
          .insertInto('audit_events')
          .values({ seq: index + 1, event_id: record.eventID, event_time: time + index, event_source: record.eventSource, event_name: record.eventName, read_only: 0, record: JSON.stringify(record) })
          .execute();
      }
      await old.destroy();

      const database = await openDatabase({ databaseUrl, dataDir: directory.path });
      try {
        const { db } = database;
        const rows = await db.selectFrom('audit_events').select(['seq', 'prev_hash', 'hash', 'user_name']).orderBy('seq').execute();
        assert.equal(rows[0]?.prev_hash, GENESIS_HASH);
        assert.equal(rows[1]?.prev_hash, rows[0].hash);
        assert.deepEqual(
          rows.map((row) => row.user_name),
          ['root', 'root', 'root'],
        );
        const resources = await db.selectFrom('audit_event_resources').select(['seq', 'resource_name']).where('resource_type', '=', 'AWS::IdentityStore::User').orderBy('seq').orderBy('resource_name').execute();
        assert.deepEqual(
          resources.filter((row) => row.seq === 2).map((row) => row.resource_name),
          ['legacy-2', userIds[1] ?? ''].sort(),
        );
        assert.deepEqual(await verifyTrail(db), { ok: true, records: 3, head: { seq: 3, hash: rows[2]?.hash } });

        await new AuditTrail(db, 'local').record({
          service: 'identitystore',
          operation: 'ListUsers',
          readOnly: true,
          principal: { kind: 'root', accountId: '123456789012' },
          sourceIp: '127.0.0.1',
          userAgent: 'test',
          requestId: randomUUID(),
          time: time + 10,
          requestParameters: {},
          responseElements: { Users: [] },
        });
        const verified = await verifyTrail(db);
        assert.ok(verified.ok && verified.records === 4, JSON.stringify(verified));
      } finally {
        await database.close();
      }
    });
  });
}
