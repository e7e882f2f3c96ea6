// Runs the in-code migrations forward under a lock (PostgreSQL advisory lock,
// SQLite write lock) and refuses a database whose schema is newer than the code.
import { Migrator, sql } from 'kysely';
import type { Kysely } from 'kysely';
import { MigrationError } from './errors.js';
import { migrationProvider, migrationsFor } from './migrations/index.js';
import type { Dialect } from './uri.js';

const MIGRATION_TABLE = 'gbc_migration';
const MIGRATION_LOCK_TABLE = 'gbc_migration_lock';

/** The names of migrations this code knows, in order. */
export function knownMigrations(dialect: Dialect): string[] {
  return Object.keys(migrationsFor(dialect)).sort();
}

/** Names of the migrations already applied to the database (empty for a new one). */
export async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  const tables = await db.introspection.getTables();
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return [];
  const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db);
  return rows.rows.map((r) => r.name);
}

/**
 * Applies every pending migration. Safe when several processes call it at once:
 * Kysely's migrator holds an advisory lock (PostgreSQL) or the write lock of a
 * BEGIN IMMEDIATE transaction (SQLite) while it runs.
 * @returns the names of the migrations this call applied.
 * @throws MigrationError `schema-newer` when the database has migrations this code lacks.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<string[]> {
  const known = new Set(knownMigrations(dialect));
  const unknown = (await appliedMigrations(db)).filter((name) => !known.has(name));
  if (unknown.length > 0) throw schemaNewer(unknown);
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    // Another process may have applied a newer migration between our check and the lock.
    if (/previously executed migration .* is missing/.test(message)) throw schemaNewer([message]);
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new MigrationError('migration-failed', `migration ${failed ?? '(setup)'} failed: ${message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function schemaNewer(unknown: string[]): MigrationError {
  return new MigrationError(
    'schema-newer',
    `the database schema is newer than this version of gbc (unknown migrations: ${unknown.join(', ')}); upgrade gbc or point it at another database`,
  );
}
