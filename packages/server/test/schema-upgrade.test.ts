/**
 * The schema at start (storage/schema-upgrade): several nodes migrating one fresh PostgreSQL
 * database at once run each migration exactly once; nodes of adjacent versions share a database
 * in either order; a node refuses a database two versions newer, with a message that says so.
 * The plans here are made up (version 1, 2, 3 of a small schema) so that a version N+1 exists.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import type { Migration } from 'kysely/migration';
import pg from 'pg';
import { SchemaTooNewError, upgradeSchema, type SchemaPlan } from '@airlock/server/storage/schema-upgrade';
import { BACKENDS, temporaryDirectory, withSchema, type Backend } from '@airlock/testkit';

const TIMEOUT = { timeout: 120_000 };

/** Each migration notes that it ran in `runs` (no key: a second run would be a second row). */
function noting(name: string, body: (db: Kysely<unknown>) => Promise<void>): Migration {
  return {
    async up(db) {
      await body(db);
      await sql`insert into runs (name) values (${name})`.execute(db);
    },
  };
}

const ALL: Record<string, Migration> = {
  '0001-base': noting('0001-base', async (db) => {
    await db.schema.createTable('settings').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
    await db.schema.createTable('runs').addColumn('name', 'text', (c) => c.notNull()).execute();
    await db.schema.createTable('things').addColumn('id', 'text', (c) => c.primaryKey()).execute();
  }),
  // Slow on purpose: a node that did not wait for the lock would run it too.
  '0002-slow': noting('0002-slow', async (db) => {
    await sql`select 1`.execute(db);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await db.schema.createIndex('things_id').on('things').column('id').execute();
  }),
  '0003-v2-expands': noting('0003-v2-expands', async (db) => {
    await db.schema.alterTable('things').addColumn('label', 'text').execute();
  }),
  '0004-v3-expands': noting('0004-v3-expands', async (db) => {
    await db.schema.createTable('more_things').addColumn('id', 'text', (c) => c.primaryKey()).execute();
  }),
};

function plan(version: 1 | 2 | 3): SchemaPlan {
  const names = Object.keys(ALL).slice(0, version + 1);
  return { version, provider: { getMigrations: () => Promise.resolve(Object.fromEntries(names.map((name) => [name, ALL[name] as Migration]))) } };
}

interface Database {
  open(): Kysely<unknown>;
}

async function database(backend: Backend, cleanups: (() => Promise<void>)[]): Promise<Database> {
  if (backend === 'postgres') {
    const schema = await withSchema();
    cleanups.push(schema.drop);
    return { open: () => new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: schema.url, max: 3 }) }) }) };
  }
  const directory = await temporaryDirectory();
  cleanups.push(directory.remove);
  return { open: () => new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(join(directory.path, 'test.db')) }) }) };
}

/** Starts a node of `version` on the database: upgrades, then closes its connections. */
async function startNode(where: Database, backend: Backend, version: 1 | 2 | 3): Promise<void> {
  const db = where.open();
  try {
    await upgradeSchema(db, backend, plan(version));
  } finally {
    await db.destroy();
  }
}

async function runsAndVersion(where: Database): Promise<{ runs: string[]; version: string | undefined }> {
  const db = where.open();
  try {
    const runs = (await sql<{ name: string }>`select name from runs order by name`.execute(db)).rows.map((row) => row.name);
    const version = (await sql<{ value: string }>`select value from settings where key = 'schema_version'`.execute(db)).rows[0]?.value;
    return { runs, version };
  } finally {
    await db.destroy();
  }
}

describe('schema upgrade on postgres: nodes starting at once', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  test('three nodes of one version on a fresh database: all start, each migration runs once (five rounds)', TIMEOUT, async () => {
    for (let round = 0; round < 5; round++) {
      const where = await database('postgres', cleanups);
      await Promise.all([startNode(where, 'postgres', 2), startNode(where, 'postgres', 2), startNode(where, 'postgres', 2)]);
      assert.deepEqual(await runsAndVersion(where), { runs: ['0001-base', '0002-slow', '0003-v2-expands'], version: '2' }, `round ${String(round)}`);
    }
  });

  test('a node of version N and one of N+1 at once on a fresh database: both start in either order, N+1 migrations run once (five rounds)', TIMEOUT, async () => {
    for (let round = 0; round < 5; round++) {
      const where = await database('postgres', cleanups);
      const order = round % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const);
      await Promise.all(order.map((version) => startNode(where, 'postgres', version)));
      assert.deepEqual(await runsAndVersion(where), { runs: ['0001-base', '0002-slow', '0003-v2-expands'], version: '2' }, `round ${String(round)}`);
    }
  });
});

for (const backend of BACKENDS) {
  describe(`schema upgrade on ${backend}: adjacent versions`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('N runs on a database N+1 migrated and migrates nothing; N+2 makes N refuse, N+1 still runs', TIMEOUT, async () => {
      const where = await database(backend, cleanups);
      await startNode(where, backend, 1);
      assert.deepEqual(await runsAndVersion(where), { runs: ['0001-base', '0002-slow'], version: '1' });
      await startNode(where, backend, 2);
      await startNode(where, backend, 1);
      assert.deepEqual(await runsAndVersion(where), { runs: ['0001-base', '0002-slow', '0003-v2-expands'], version: '2' }, 'version 1 starts on 2 and leaves it as it is');

      await startNode(where, backend, 3);
      await assert.rejects(startNode(where, backend, 1), (error: unknown) => {
        assert.ok(error instanceof SchemaTooNewError, String(error));
        assert.match(error.message, /schema is version 3; this server has schema version 1 and runs only on versions up to 2/);
        return true;
      });
      await startNode(where, backend, 2);
      assert.deepEqual(await runsAndVersion(where), { runs: ['0001-base', '0002-slow', '0003-v2-expands', '0004-v3-expands'], version: '3' });
    });

    test('a database a build of version N+1 marked but without all of N\u2019s migrations is refused', TIMEOUT, async () => {
      const where = await database(backend, cleanups);
      await startNode(where, backend, 1);
      const db = where.open();
      try {
        await sql`update settings set value = '2' where key = 'schema_version'`.execute(db);
        await sql`delete from kysely_migration where name = '0002-slow'`.execute(db);
      } finally {
        await db.destroy();
      }
      await assert.rejects(startNode(where, backend, 1), /lacks its migrations 0002-slow/);
    });
  });
}
