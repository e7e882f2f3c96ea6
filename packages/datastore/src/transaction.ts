// Helpers to compose query functions: run in the caller's transaction or open
// one, and split bulk writes into chunks under SQLite's bound-parameter limit.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** A Kysely handle or a transaction on the gbc schema: what every query function takes. */
export type Db = Kysely<Database>;

/** Runs `fn` in `db` if it is already a transaction, else in a new transaction. */
export async function inTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  if (db.isTransaction) return fn(db);
  return db.transaction().execute((trx: Transaction<Database>) => fn(trx));
}

/** Bound parameters per statement: below SQLite's limit (32766) and PostgreSQL's (65535). */
export const MAX_PARAMS = 30_000;

/** Splits `items` into chunks whose rows of `columns` parameters fit in one statement. */
export function chunk<T>(items: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
