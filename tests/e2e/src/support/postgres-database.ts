// A fresh PostgreSQL database for a test, on the server named by
// GBC_TEST_POSTGRES_URI, created and dropped with psql (this package has no
// database driver of its own; psql ships with the server).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A database and how to remove it. */
export interface PostgresDatabase {
  readonly uri: string;
  /** Drops the database; may be passed around on its own. */
  drop(this: void): Promise<void>;
}

/** The test server's URI; throws a clear error when GBC_TEST_POSTGRES_URI is missing. */
export function testPostgresUri(): string {
  const uri = process.env.GBC_TEST_POSTGRES_URI;
  if (uri === undefined || uri === '')
    throw new Error(
      'GBC_TEST_POSTGRES_URI is not set: run the e2e tests with a PostgreSQL server URI (scripts/test sets it), e.g. postgres://postgres@127.0.0.1:54329/gbc',
    );
  return uri;
}

/** Creates `<prefix>_<random>` on the test server. */
export function createPostgresDatabase(prefix = 'gbc_e2e'): Promise<PostgresDatabase> {
  const server = testPostgresUri();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  psql(server, `CREATE DATABASE ${name}`);
  const uri = new URL(server);
  uri.pathname = `/${name}`;
  return Promise.resolve({
    uri: uri.toString(),
    drop: () => {
      psql(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      return Promise.resolve();
    },
  });
}

function psql(uri: string, statement: string): void {
  execFileSync(psqlProgram(), ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-q', '-d', uri, '-c', statement], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** `psql` from PATH, else from the newest /usr/lib/postgresql/N/bin. */
function psqlProgram(): string {
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir !== '' && existsSync(join(dir, 'psql'))) return join(dir, 'psql');
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin/psql')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined)
    throw new Error('psql not found on PATH nor under /usr/lib/postgresql/*/bin');
  return join(base, versions[0], 'bin/psql');
}
