// Multi-row INSERTs built as plain SQL text with positional parameters: for
// bulk writes this skips building a query tree per value, which measured as
// most of the CPU time (and garbage) of inserting 100k builds through Kysely.
import { CompiledQuery } from 'kysely';
import { isPg } from './attempts-claim.js';
import type { Database } from './schema.js';
import { MAX_PARAMS } from './transaction.js';
import type { Db } from './transaction.js';

/** Options of {@link bulkInsert}. */
export interface BulkInsertOptions {
  /** `on conflict (cols) do nothing`. */
  readonly onConflictDoNothing?: readonly string[];
  /** Columns to return (the rows of every chunk, concatenated). */
  readonly returning?: readonly string[];
}

/**
 * Inserts `rows` (arrays of values in `columns` order) into `table`, in as few
 * statements as the parameter limit allows. Table and column names must be
 * trusted identifiers (they come from this package, never from users).
 */
export async function bulkInsert<R = Record<string, unknown>>(db: Db, table: keyof Database, columns: readonly string[], rows: readonly (readonly unknown[])[], options: BulkInsertOptions = {}): Promise<R[]> {
  const pg = isPg(db);
  const per = Math.max(1, Math.floor(MAX_PARAMS / columns.length));
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  const tail =
    (options.onConflictDoNothing !== undefined ? ` on conflict (${options.onConflictDoNothing.map((c) => `"${c}"`).join(', ')}) do nothing` : '') +
    (options.returning !== undefined ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}` : '');
  const out: R[] = [];
  for (let start = 0; start < rows.length; start += per) {
    const part = rows.slice(start, start + per);
    const params: unknown[] = [];
    const tuples: string[] = [];
    for (const row of part) {
      const marks: string[] = [];
      for (const value of row) {
        params.push(value);
        marks.push(pg ? `$${params.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    const result = await db.executeQuery<R>(CompiledQuery.raw(head + tuples.join(', ') + tail, params));
    out.push(...result.rows);
  }
  return out;
}
