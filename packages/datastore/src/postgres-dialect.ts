// PostgreSQL through a pg Pool; 64-bit integers are parsed as JS numbers
// (every id, time and size here stays below 2^53).
import pg from 'pg';
import { PostgresDialect } from 'kysely';

/** Options of the PostgreSQL dialect. */
export interface PostgresOptions {
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
  /** How long to wait for a connection, in ms. Default 10000. */
  readonly connectTimeoutMs?: number;
}

const INT8_OID = 20;

const types: pg.CustomTypesConfig = {
  // pg types its parsers as `any`: what they return is up to each parser.
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  },
};

/** Creates a pg Pool for `connectionString` and a Kysely dialect on it. */
export function createPostgresDialect(
  connectionString: string,
  options: PostgresOptions = {},
): { dialect: PostgresDialect; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types,
  });
  // An idle client that loses its server must not crash the process.
  pool.on('error', () => undefined);
  return { dialect: new PostgresDialect({ pool }), pool };
}
