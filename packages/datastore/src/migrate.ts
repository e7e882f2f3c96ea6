// Runs the in-code migrations forward under a lock (PostgreSQL advisory lock,
// SQLite write lock of BEGIN IMMEDIATE) and refuses a database whose schema is newer than the code.
import { sql } from 'kysely';
import { MigrationError } from './errors.js';
import { migrationsFor } from './migrations/index.js';
import type { Db } from './transaction.js';
import type { Dialect } from './uri.js';

const MIGRATION_TABLE = 'gbc_migration';

/** The names of migrations this code knows, in order. */
export function knownMigrations(dialect: Dialect): string[] {
  return Object.keys(migrationsFor(dialect)).sort();
}

/** Names of the migrations already applied to the database (empty for a new one). */
export async function appliedMigrations(db: Db): Promise<string[]> {
  const tables = await db.introspection.getTables();
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return [];
  const rows = await sql<{
    name: string;
  }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
  return rows.rows.map((r) => r.name);
}

/** Advisory-lock key of gbc migrations on PostgreSQL (any constant; "gbc" in ASCII). */
const LOCK_KEY = 0x676263;

/**
 * Applies every pending migration, in order, in one transaction. Safe when
 * several processes call it at once: the transaction first takes the write
 * lock (SQLite: BEGIN IMMEDIATE) or an advisory lock (PostgreSQL), then reads
 * what is applied, so the second process finds nothing left to do. Both
 * engines run DDL transactionally: a failed migration leaves nothing behind.
 * `upTo` stops after that migration (tests of a later migration start from
 * the schema before it).
 * @returns the names of the migrations this call applied.
 * @throws MigrationError `schema-newer` when the database has migrations this code lacks,
 *   `migration-failed` when one fails.
 */
export async function migrateToLatest(db: Db, dialect: Dialect, upTo?: string): Promise<string[]> {
  const migrations = migrationsFor(dialect);
  const known = Object.keys(migrations).sort();
  if (upTo !== undefined && !known.includes(upTo))
    throw new MigrationError('migration-failed', `no migration ${upTo}`);
  let current = '(setup)';
  try {
    return await db.transaction().execute(async (trx) => {
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(${LOCK_KEY})`.execute(trx);
      await trx.schema
        .createTable(MIGRATION_TABLE)
        .ifNotExists()
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
        .execute();
      const applied = (
        await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(trx)
      ).rows.map((r) => r.name);
      const unknown = applied.filter((name) => !known.includes(name));
      if (unknown.length > 0) throw schemaNewer(unknown);
      const pending = known.filter((name) => !applied.includes(name) && (upTo === undefined || name <= upTo));
      for (const name of pending) {
        current = name;
        await migrations[name]!.up(trx);
        await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(
          trx,
        );
      }
      return pending;
    });
  } catch (error) {
    if (error instanceof MigrationError) throw error;
    throw new MigrationError(
      'migration-failed',
      `migration ${current} failed and was rolled back: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

function schemaNewer(unknown: string[]): MigrationError {
  return new MigrationError(
    'schema-newer',
    `the database schema is newer than this version of gbc (unknown migrations: ${unknown.join(', ')}); upgrade gbc or point it at another database`,
  );
}
