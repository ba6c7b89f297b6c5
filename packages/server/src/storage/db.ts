/**
 * The data layer: one Kysely instance over SQLite (the embedded default: one file in the data
 * directory, WAL) or PostgreSQL (`--database-url postgres://…`). Migrations run at open.
 */
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider, SCHEMA_VERSION } from './migrations.js';
import type { Database } from './schema.js';
import { upgradeSchema } from './schema-upgrade.js';

export type Db = Kysely<Database>;

export interface DbConfig {
  /** `postgres://…` for PostgreSQL; undefined for SQLite in `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

export interface OpenDb {
  readonly db: Db;
  readonly kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export async function openDatabase(config: DbConfig): Promise<OpenDb> {
  const kind = config.databaseUrl === undefined ? 'sqlite' : 'postgres';
  const db = new Kysely<Database>({ dialect: kind === 'sqlite' ? sqliteDialect(config.dataDir) : postgresDialect(config.databaseUrl ?? '') });
  try {
    await migrate(db, kind);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return { db, kind, close: () => db.destroy() };
}

function sqliteDialect(dataDir: string): SqliteDialect {
  const database = new SQLite(join(dataDir, 'airlock.db'));
  // WAL lets readers work while one writer commits; NORMAL sync is durable across process
  // crashes in WAL mode. Foreign keys are off by default in SQLite.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new SqliteDialect({ database });
}

function postgresDialect(url: string): PostgresDialect {
  // Times are BIGINT epoch milliseconds: read them as numbers, as SQLite returns them.
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, Number);
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  return new PostgresDialect({ pool });
}

async function migrate(db: Db, kind: OpenDb['kind']): Promise<void> {
  await upgradeSchema(db, kind, { provider: migrationProvider, version: SCHEMA_VERSION });
}
