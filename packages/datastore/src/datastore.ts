// openDatastore: a Kysely handle on SQLite or PostgreSQL from a URI string,
// checked reachable and migrated before it is handed out.
import { Kysely, sql } from 'kysely';
import type { Transaction } from 'kysely';
import { DatastoreUriError } from './errors.js';
import { migrateToLatest } from './migrate.js';
import { createPostgresDialect } from './postgres-dialect.js';
import type { PostgresOptions } from './postgres-dialect.js';
import type { Database } from './schema.js';
import type { ClaimRunner } from './attempts-claim-many.js';
import { createPostgresClaims } from './postgres-claims.js';
import { startSqliteClaimWorker } from './sqlite-claim-worker.js';
import { createSqliteDialect } from './sqlite-dialect.js';
import type { SqliteOptions } from './sqlite-dialect.js';
import type { Db } from './transaction.js';
import { parseDatastoreUri, redactUri } from './uri.js';
import type { Dialect } from './uri.js';

/** Options of {@link openDatastore}. */
export interface DatastoreOptions extends SqliteOptions, PostgresOptions {
  /** Apply pending migrations on open. Default true. */
  readonly migrate?: boolean;
  /** Directory that relative `sqlite://` paths are resolved against. Default `process.cwd()`. */
  readonly cwd?: string;
}

/** An open datastore. */
export interface Datastore {
  /** The Kysely handle; pass it (or a transaction from it) to the query functions. */
  readonly db: Db;
  readonly dialect: Dialect;
  /** The URI it was opened with, password redacted. */
  readonly uri: string;
  /** Runs `fn` in one transaction (BEGIN IMMEDIATE on SQLite); commits if it resolves. */
  transaction<T>(fn: (trx: Db) => Promise<T>): Promise<T>;
  /** Applies pending migrations; returns their names. */
  migrate(): Promise<string[]>;
  /**
   * What runs claims beside `db` (see claimBuildsForAgents): on a SQLite file
   * a worker thread (started on first call, stopped by `close`;
   * sqlite-claim-worker.ts), on PostgreSQL a prepared statement
   * (postgres-claims.ts). Undefined for an in-memory SQLite database.
   */
  claimRunner(): ClaimRunner | undefined;
  /** Closes the pool or the file. */
  close(): Promise<void>;
}

/**
 * Opens the datastore named by `uri` (see {@link parseDatastoreUri}), checks that
 * it answers, and (unless `options.migrate === false`) migrates it.
 *
 * SQLite: open one datastore per file per process. better-sqlite3 is
 * synchronous, so a second connection in the same thread waiting for the first
 * one's write lock would block the thread that must release it. Other
 * processes on the same file are fine (WAL, busy timeout, BEGIN IMMEDIATE).
 * @throws DatastoreUriError (`uri-invalid`, `uri-scheme`, `unreachable`), MigrationError.
 */
export async function openDatastore(uri: string, options: DatastoreOptions = {}): Promise<Datastore> {
  const target = parseDatastoreUri(uri, options.cwd);
  const shown = redactUri(uri);
  const postgres =
    target.dialect === 'postgres' ? createPostgresDialect(target.connectionString, options) : undefined;
  const db =
    target.dialect === 'sqlite'
      ? new Kysely<Database>({ dialect: createSqliteDialect(target.filename, options) })
      : new Kysely<Database>({ dialect: postgres!.dialect });
  try {
    await sql`select 1`.execute(db);
  } catch (cause) {
    await db.destroy().catch(() => undefined);
    throw new DatastoreUriError(
      'unreachable',
      `cannot reach database ${JSON.stringify(shown)}: ${redactUri((cause as Error).message)}`,
      { cause },
    );
  }
  let claimRunner: ClaimRunner | undefined;
  const store: Datastore = {
    db,
    dialect: target.dialect,
    uri: shown,
    transaction: (fn) => db.transaction().execute((trx: Transaction<Database>) => fn(trx)),
    migrate: () => migrateToLatest(db, target.dialect),
    claimRunner() {
      if (postgres !== undefined) return (claimRunner ??= createPostgresClaims(postgres.pool));
      if (target.dialect !== 'sqlite' || target.filename === ':memory:') return undefined;
      return (claimRunner ??= startSqliteClaimWorker(target.filename, options));
    },
    async close() {
      await claimRunner?.stop();
      await db.destroy();
    },
  };
  if (options.migrate !== false) {
    try {
      await store.migrate();
    } catch (error) {
      await db.destroy().catch(() => undefined);
      throw error;
    }
  }
  return store;
}
