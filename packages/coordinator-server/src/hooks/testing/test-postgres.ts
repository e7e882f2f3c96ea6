// Test support: a fresh PostgreSQL database per test on the server named by
// GBC_TEST_POSTGRES_URI (required: the suite fails, never skips, without it).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { openDatastore } from '@gbc/datastore';

/** The base PostgreSQL URI of the test server; throws a clear error when unset. */
export function testPostgresUri(): string {
  const uri = process.env.GBC_TEST_POSTGRES_URI;
  if (uri === undefined || uri === '')
    throw new Error(
      'GBC_TEST_POSTGRES_URI is not set: run the tests through the test command, or export it (e.g. postgres://postgres@127.0.0.1:54329/gbc)',
    );
  return uri;
}

/** Creates an empty database and returns its URI and a function dropping it. */
export async function createPostgresDatabase(): Promise<{ uri: string; drop(this: void): Promise<void> }> {
  const base = testPostgresUri();
  const name = `gbc_hooks_${randomUUID().replace(/-/g, '')}`;
  const admin = await openDatastore(base, { migrate: false });
  try {
    await sql`create database ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    uri: u.toString(),
    async drop() {
      const a = await openDatastore(base, { migrate: false });
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(a.db);
      } finally {
        await a.close();
      }
    },
  };
}
