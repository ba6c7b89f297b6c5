/**
 * Bringing the database up to this build's schema at start, safely when several nodes start at
 * once and when nodes of two adjacent versions share one database (docs/deployment.md, Upgrades).
 *
 * The rule: migrations only expand (new tables, new nullable or defaulted columns), so a node of
 * schema version N runs on a database that a node of version N+1 has migrated. A node refuses a
 * database whose schema is newer than N+1. The database keeps the highest version that migrated
 * it in `settings.schema_version`.
 */
import { sql, type Kysely } from 'kysely';
import { Migrator, type MigrationProvider } from 'kysely/migration';

export interface SchemaPlan {
  readonly provider: MigrationProvider;
  /** This build's schema version: bumped once in each release that adds migrations. */
  readonly version: number;
}

const VERSION_KEY = 'schema_version';
/** The first key of the two-key advisory lock; the second is the schema's name, hashed. */
const LOCK_CLASS = 0x41_49_52_4c;

export class SchemaTooNewError extends Error {}

export async function upgradeSchema<T>(db: Kysely<T>, kind: 'sqlite' | 'postgres', plan: SchemaPlan): Promise<void> {
  if (kind === 'sqlite') {
    // One process owns a SQLite file: nothing to race with.
    await upgradeUnlocked(db, kind, plan, undefined);
    return;
  }
  const schema = (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
  // Kysely's migrator takes a lock of its own for its migrations, but reading and writing the
  // version must happen under the same lock as migrating, or a node of version N could read
  // "nothing yet", then find N+1's migrations done and refuse them as unknown. A session-level
  // lock is held by one connection: this one, until the end.
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${LOCK_CLASS}, hashtext(current_schema()))`.execute(connection);
    try {
      await upgradeUnlocked(db, kind, plan, schema);
    } finally {
      await sql`select pg_advisory_unlock(${LOCK_CLASS}, hashtext(current_schema()))`.execute(connection);
    }
  });
}

async function upgradeUnlocked<T>(db: Kysely<T>, kind: 'sqlite' | 'postgres', plan: SchemaPlan, schema: string | undefined): Promise<void> {
  const found = await readVersion(db, kind);
  if (found > plan.version + 1) {
    throw new SchemaTooNewError(
      `The database's schema is version ${String(found)}; this server has schema version ${String(plan.version)} and runs only on versions up to ${String(plan.version + 1)}. ` +
        `Run a release with schema version ${String(found - 1)} or later (docs/deployment.md, Upgrades).`,
    );
  }
  if (found === plan.version + 1) {
    // The next version migrated it and its migrations only added: run as we are, migrate nothing.
    await requireApplied(db, plan, schema);
    return;
  }
  // Kysely looks for its own tables in every schema unless told which: with two schemas on one
  // database (tests, or two deployments) it would find another's and skip making its own.
  const migrator = new Migrator({ db, provider: plan.provider, ...(schema === undefined ? {} : { migrationTableSchema: schema }) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
  if (found < plan.version) {
    await sql`insert into settings (key, value) values (${VERSION_KEY}, ${String(plan.version)})
      on conflict (key) do update set value = excluded.value`.execute(db);
  }
}

/** The version recorded in the database: 0 for a fresh one, or one made before versions were kept. */
async function readVersion<T>(db: Kysely<T>, kind: 'sqlite' | 'postgres'): Promise<number> {
  const present =
    kind === 'postgres'
      ? (await sql<{ present: boolean }>`select to_regclass('settings') is not null as present`.execute(db)).rows[0]?.present === true
      : (await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = 'settings'`.execute(db)).rows[0]?.n === 1;
  if (!present) return 0;
  const row = (await sql<{ value: string }>`select value from settings where key = ${VERSION_KEY}`.execute(db)).rows[0];
  return row === undefined ? 0 : Number(row.value);
}

/** Every migration this build knows must have run: a database of version N+1 has them all. */
async function requireApplied<T>(db: Kysely<T>, plan: SchemaPlan, schema: string | undefined): Promise<void> {
  const table = schema === undefined ? sql.table('kysely_migration') : sql.table(`${schema}.kysely_migration`);
  const done = new Set((await sql<{ name: string }>`select name from ${table}`.execute(db)).rows.map((row) => row.name));
  const missing = Object.keys(await plan.provider.getMigrations()).filter((name) => !done.has(name));
  if (missing.length > 0) {
    throw new Error(`The database's schema is one version newer than this server's but lacks its migrations ${missing.join(', ')}: it was not migrated by a release. Refusing to start.`);
  }
}
