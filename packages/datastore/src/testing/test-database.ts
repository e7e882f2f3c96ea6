// Test support: a fresh, empty database per test file on either dialect
// (a temporary SQLite file, or `CREATE DATABASE gbc_t_<random>` on PostgreSQL).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Dialect } from '../uri.js';

/** Both dialects, for `describe.each`. */
export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

/** The PostgreSQL server for tests; throws a clear error when the variable is missing. */
export function postgresBaseUri(variable = 'GBC_TEST_POSTGRES_URI'): string {
  const uri = process.env[variable];
  if (uri === undefined || uri === '') {
    throw new Error(
      `${variable} is not set: the datastore tests need a PostgreSQL server, e.g. ${variable}=postgres://postgres@127.0.0.1:54329/gbc (scripts/test sets it)`,
    );
  }
  return uri;
}

/** An empty database and how to remove it. */
export interface TestDatabase {
  readonly dialect: Dialect;
  readonly uri: string;
  /** For SQLite: the file. */
  readonly file?: string;
  /** Removes the database; may be passed around on its own. */
  drop(this: void): Promise<void>;
}

/** Creates an empty database on `dialect`. */
export async function createTestDatabase(dialect: Dialect, variable?: string): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gbc-ds-'));
    const file = join(dir, 'gbc.db');
    return {
      dialect,
      uri: `sqlite://${file}`,
      file,
      drop: () => {
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  }
  const base = postgresBaseUri(variable);
  const name = `gbc_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(base, `create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    dialect,
    uri: url.toString(),
    drop: () => adminQuery(base, `drop database if exists ${name} with (force)`),
  };
}

async function adminQuery(uri: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
