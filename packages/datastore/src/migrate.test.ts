// Migrations: applied once when two processes start at once, and refused on a
// database whose schema is newer than the code.
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatastore } from './datastore.js';
import { MigrationError } from './errors.js';
import { appliedMigrations, knownMigrations } from './migrate.js';
import { removeChildLogs, spawnChild } from './testing/spawn-child.js';
import { DIALECTS, createTestDatabase } from './testing/test-database.js';

afterAll(removeChildLogs);

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  it('are applied exactly once when two processes migrate at once', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const children = [
        spawnChild('migrate', database.uri),
        spawnChild('migrate', database.uri),
        spawnChild('migrate', database.uri),
      ];
      await Promise.all(children.map((c) => c.go()));
      for (const c of children) expect(await c.exited, c.stderr()).toBe(0);
      const applied = children.flatMap((c) =>
        c.lines.flatMap((l) => (l as { applied?: string[] }).applied ?? []),
      );
      expect(applied).toEqual(knownMigrations(dialect));
      const store = await openDatastore(database.uri);
      expect(await appliedMigrations(store.db)).toEqual(knownMigrations(dialect));
      expect(await store.migrate()).toEqual([]);
      await store.close();
    } finally {
      await database.drop();
    }
  });

  it('refuses a database whose schema is newer than the code', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const store = await openDatastore(database.uri);
      await sql`insert into gbc_migration (name, timestamp) values ('9999-from-the-future', '2030-01-01T00:00:00Z')`.execute(
        store.db,
      );
      await store.close();
      const error = await openDatastore(database.uri).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationError);
      expect((error as MigrationError).code).toBe('schema-newer');
      expect((error as Error).message).toContain('9999-from-the-future');
      // Opening without migrating still works, e.g. to inspect it.
      const raw = await openDatastore(database.uri, { migrate: false });
      await expect(raw.migrate()).rejects.toMatchObject({ code: 'schema-newer' });
      await raw.close();
    } finally {
      await database.drop();
    }
  });
});
