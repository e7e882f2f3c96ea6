// Migration 0004 (frozen): attempts and client tokens get UUIDs of their own.
// Until now the protocol showed their row numbers inside a fixed UUID-shaped
// prefix (00000000-0000-4000-8000-<hex>); rows from before keep exactly that
// form, so ids already handed out go on working. New rows get version-7 UUIDs.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../uri.js';

/** The UUID that the protocol showed for row `id` before this migration, as SQL. */
function legacyUuid(dialect: Dialect) {
  return dialect === 'postgres'
    ? sql`'00000000-0000-4000-8000-' || lpad(to_hex(id), 12, '0')`
    : sql`'00000000-0000-4000-8000-' || printf('%012x', id)`;
}

/** Adds attempts.uuid and client_tokens.uuid, filled for existing rows, each with a unique index. */
export function attemptUuids(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const table of ['attempts', 'client_tokens']) {
        await db.schema.alterTable(table).addColumn('uuid', 'text').execute();
        await sql`update ${sql.table(table)} set uuid = ${legacyUuid(dialect)}`.execute(db);
        await db.schema.createIndex(`${table}_uuid`).on(table).column('uuid').unique().execute();
      }
    },
  };
}
