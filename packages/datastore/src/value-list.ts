// `column IN (values)` for long lists, as one parameter: a JSON array read by
// json_each on SQLite, `= any($1::type[])` on PostgreSQL. The statement text
// stays the same whatever the list's length (prepared once, planned cheaply),
// and there is no bound-parameter limit to chunk around.
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import { isPg } from './attempts-claim.js';
import type { Db } from './transaction.js';

/** `column` (a trusted, possibly qualified name such as `d.path`) is one of `values`. */
export function inValues(
  db: Db,
  column: string,
  values: readonly string[] | readonly number[],
  type: 'text' | 'bigint',
): RawBuilder<SqlBool> {
  const ref = sql.ref(column);
  if (isPg(db)) return sql<SqlBool>`${ref} = any(${values}::${sql.raw(type)}[])`;
  return sql<SqlBool>`${ref} in (select value from json_each(${JSON.stringify(values)}))`;
}
