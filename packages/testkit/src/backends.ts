/**
 * The storage backends every storage-touching test runs on. PostgreSQL is not optional: a test
 * that needs it fails when it is missing, it does not skip.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];

// eslint-disable-next-line no-restricted-syntax -- tests may point at another PostgreSQL
const configured = process.env['AIRLOCK_TEST_DATABASE_URL'];

export function testDatabaseUrl(): string {
  return configured ?? 'postgres://postgres@127.0.0.1:5432/test';
}

/**
 * Makes a fresh schema in the test database and returns a URL whose connections use it, so that
 * tests running at once never see each other's rows; `drop` removes it.
 */
export async function withSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = testDatabaseUrl();
  const schema = `airlock_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
