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
 * Inserts rows into `table`: `values` holds them one after the other, each
 * as many values as `columns`, in `columns` order (a flat array: no array per
 * row to build and flatten again). Table and column names must be trusted
 * identifiers (they come from this package, never from users).
 */
export async function bulkInsert<R = Record<string, unknown>>(
  db: Db,
  table: keyof Database,
  columns: readonly string[],
  values: readonly unknown[],
  options: BulkInsertOptions = {},
): Promise<R[]> {
  const width = columns.length;
  if (values.length % width !== 0)
    throw new Error(`bulkInsert into ${table}: ${values.length} values do not make rows of ${width}`);
  const rows = values.length / width;
  if (rows === 0) return [];
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) `;
  const tail =
    (options.onConflictDoNothing !== undefined
      ? ` on conflict (${options.onConflictDoNothing.map((c) => `"${c}"`).join(', ')}) do nothing`
      : '') +
    (options.returning !== undefined
      ? ` returning ${options.returning.map((c) => `"${c}"`).join(', ')}`
      : '');
  const pg = isPg(db);
  const out: R[] = [];
  let start = 0;
  while (start < rows) {
    // SQLite: chunks of SQLITE_ROWS, then the remainder in powers of two (few distinct texts).
    let size = pg ? Math.min(rows - start, Math.floor(MAX_PARAMS / width)) : SQLITE_ROWS;
    while (size > rows - start) size >>= 1;
    const params = values.slice(start * width, (start + size) * width);
    const text = pg ? head + pgValues(width, size) + tail : sqliteStatement(head, tail, width, size);
    const result = await db.executeQuery<R>(CompiledQuery.raw(text, params));
    for (const row of result.rows) out.push(row);
    start += size;
  }
  return out;
}

const sqliteStatements = new Map<string, string>();

/**
 * The SQLite statement for `rows` rows, built once per shape (few: the row
 * counts are powers of two): the same string each time, so the
 * prepared-statement cache finds it without building and hashing 4 KiB anew.
 */
function sqliteStatement(head: string, tail: string, columns: number, rows: number): string {
  const key = `${rows}\u0000${head}${tail}`;
  let text = sqliteStatements.get(key);
  if (text === undefined) {
    const tuple = `(${new Array<string>(columns).fill('?').join(', ')})`;
    text = `${head}values ${new Array<string>(rows).fill(tuple).join(', ')}${tail}`;
    sqliteStatements.set(key, text);
  }
  return text;
}

/** `values ($1, $2), ($3, $4)` for `rows` rows of `columns` values. */
function pgValues(columns: number, rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++)
    tuples.push(`(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`);
  return `values ${tuples.join(', ')}`;
}
