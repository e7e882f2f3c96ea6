// The ordered list of migrations, provided to Kysely's Migrator from code.
import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../uri.js';
import { initialSchema } from './0001-initial.js';

/** Every migration this code knows, by name; names sort in the order they run. */
export function migrationsFor(dialect: Dialect): Record<string, Migration> {
  return {
    '0001-initial': initialSchema(dialect),
  };
}

/** A Kysely MigrationProvider over {@link migrationsFor}. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
