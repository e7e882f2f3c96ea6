// Bulk INSERTs as plain multi-row VALUES (no query tree per value). SQLite
// gets a few fixed statement sizes, so each text is prepared once and reused;
// PostgreSQL gets as many rows per statement as its parameters allow (arrays
// through unnest measured no cheaper on the server and twice the client CPU:
// pg escapes every array element, and bytea in an array travels as hex).
import { CompiledQuery } from 'kysely';
import { isPg } from './attempts-claim.js';
import type { Database } from './schema.js';
import { MAX_PARAMS } from './transaction.js';
import type { Db } from './transaction.js';

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
export async function bulkInsert<R = Record<string, unknown>>(db: Db, table: keyof Database, columns: readonly string[], rows: readonly (readonly unknown[])[], options: BulkInsertOptions = {}): Promise<R[]> {
  if (rows.length === 0) return [];
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) `;
  const tail =
    (options.onConflictDoNothing !== undefined ? ` on conflict (${options.onConflictDoNothing.map((c) => `"${c}"`).join(', ')}) do nothing` : '') +
    (options.returning !== undefined ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}` : '');
  const pg = isPg(db);
  const out: R[] = [];
  let start = 0;
  while (start < rows.length) {
    // SQLite: chunks of SQLITE_ROWS, then the remainder in powers of two (few distinct texts).
    let size = pg ? Math.min(rows.length - start, Math.floor(MAX_PARAMS / columns.length)) : SQLITE_ROWS;
    while (size > rows.length - start) size >>= 1;
    const params: unknown[] = [];
    for (let i = start; i < start + size; i++) for (const value of rows[i]!) params.push(value);
    const values = pg ? pgValues(columns.length, size) : sqliteValues(columns.length, size);
    const result = await db.executeQuery<R>(CompiledQuery.raw(head + values + tail, params));
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

/** `values ($1, $2), ($3, $4)` for `rows` rows of `columns` values. */
function pgValues(columns: number, rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) tuples.push(`(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`);
  return `values ${tuples.join(', ')}`;
}
