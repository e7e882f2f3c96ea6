// Bulk INSERTs as plain SQL (no query tree per value). PostgreSQL gets one
// statement whose columns are arrays (`select * from unnest($1::text[], …)`):
// a short text to parse and plan, however many rows. SQLite gets multi-row
// VALUES in a few fixed sizes, so each text is prepared once and then reused.
import { CompiledQuery } from 'kysely';
import { isPg } from './attempts-claim.js';
import type { Database } from './schema.js';
import type { Db } from './transaction.js';

/** A column's name and its PostgreSQL type (for the array casts). */
export type BulkColumn = readonly [name: string, type: 'text' | 'bigint' | 'integer' | 'bytea'];

/** Options of {@link bulkInsert}. */
export interface BulkInsertOptions {
  /** `on conflict (cols) do nothing`. */
  readonly onConflictDoNothing?: readonly string[];
  /** Columns to return (of every inserted row, in no particular order). */
  readonly returning?: readonly string[];
}

/** Most rows in one SQLite statement (a power of two, below its 32766 parameters). */
const SQLITE_ROWS = 256;

/**
 * Inserts `rows` (arrays of values in `columns` order) into `table`. Table and
 * column names must be trusted identifiers (they come from this package,
 * never from users).
 */
export async function bulkInsert<R = Record<string, unknown>>(db: Db, table: keyof Database, columns: readonly BulkColumn[], rows: readonly (readonly unknown[])[], options: BulkInsertOptions = {}): Promise<R[]> {
  if (rows.length === 0) return [];
  const head = `insert into "${table}" (${columns.map(([c]) => `"${c}"`).join(', ')}) `;
  const tail =
    (options.onConflictDoNothing !== undefined ? ` on conflict (${options.onConflictDoNothing.map((c) => `"${c}"`).join(', ')}) do nothing` : '') +
    (options.returning !== undefined ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}` : '');
  if (isPg(db)) {
    const arrays = columns.map((_, i) => rows.map((row) => row[i]));
    const unnest = `select * from unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;
    return (await db.executeQuery<R>(CompiledQuery.raw(head + unnest + tail, arrays))).rows;
  }
  const out: R[] = [];
  let start = 0;
  while (start < rows.length) {
    // Chunks of SQLITE_ROWS, then the remainder in powers of two: few distinct texts.
    let size = SQLITE_ROWS;
    while (size > rows.length - start) size >>= 1;
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) for (const value of rows[i]!) params.push(value);
    const result = await db.executeQuery<R>(CompiledQuery.raw(head + sqliteValues(columns.length, size) + tail, params));
    for (const row of result.rows) out.push(row);
    start += size;
  }
  return out;
}

const valuesTexts = new Map<string, string>();

/** `values (?, ?), (?, ?)` for `rows` rows of `columns` values, built once per shape. */
function sqliteValues(columns: number, rows: number): string {
  const key = `${columns}x${rows}`;
  let text = valuesTexts.get(key);
  if (text === undefined) {
    const tuple = `(${new Array<string>(columns).fill('?').join(', ')})`;
    text = `values ${new Array<string>(rows).fill(tuple).join(', ')}`;
    valuesTexts.set(key, text);
  }
  return text;
}
