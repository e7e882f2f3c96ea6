// SQLite through better-sqlite3: WAL, a busy timeout, foreign keys, and
// transactions that take the write lock up front (BEGIN IMMEDIATE).
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDialectConfig } from 'kysely';
import { DatastoreUriError } from './errors.js';
import { BACKSTOP_PAGES, startWalCheckpointer } from './wal-checkpointer.js';
import type { WalCheckpointer } from './wal-checkpointer.js';

/** Options of the SQLite dialect. */
export interface SqliteOptions {
  /** How long a writer waits for another process's write lock, in ms. Default 15000. */
  readonly busyTimeoutMs?: number;
  /**
   * `normal` (default): in WAL mode a crash of the process or of the machine
   * never corrupts the database and never leaves half a transaction, but a
   * power loss may drop the last commits. `full` syncs every commit.
   */
  readonly synchronous?: 'normal' | 'full';
  /** Page cache per connection, in MiB. Default 64: bulk writes and index-heavy lists stay in memory. */
  readonly cacheMiB?: number;
  /** Checkpoint the WAL on a worker thread rather than inside commits (see wal-checkpointer.ts). Default true. */
  readonly backgroundCheckpoints?: boolean;
}

/**
 * Every transaction starts with BEGIN IMMEDIATE: it takes the write lock at once,
 * so a read-then-write transaction never fails half-way with SQLITE_BUSY when a
 * second process writes to the same file; it waits up to the busy timeout instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #beforeClose: () => Promise<void>;
  constructor(config: SqliteDialectConfig, beforeClose: () => Promise<void>) {
    super(config);
    this.#beforeClose = beforeClose;
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  /** Waits for what must end before the connection closes (the checkpointer's thread), then closes it. */
  override async destroy(): Promise<void> {
    await this.#beforeClose();
    await super.destroy();
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #beforeClose: () => Promise<void>;
  constructor(config: SqliteDialectConfig, beforeClose: () => Promise<void>) {
    super(config);
    this.#config = config;
    this.#beforeClose = beforeClose;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#beforeClose);
  }
}

/** Opens (creating if needed) a SQLite file and returns a Kysely dialect on it. */
export function createSqliteDialect(filename: string, options: SqliteOptions = {}): SqliteDialect {
  let database: SqliteDatabase.Database;
  try {
    if (filename !== ':memory:') createPrivately(filename);
    database = new SqliteDatabase(filename);
  } catch (cause) {
    throw new DatastoreUriError(
      'unreachable',
      `cannot open SQLite database ${JSON.stringify(filename)}: ${(cause as Error).message}`,
      { cause },
    );
  }
  database.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 15_000}`);
  if (filename !== ':memory:') database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  database.pragma('foreign_keys = ON');
  database.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? 64)}`);
  database.pragma('temp_store = MEMORY');
  let checkpointer: WalCheckpointer | undefined;
  if (filename !== ':memory:' && options.backgroundCheckpoints !== false) {
    database.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    // Once the WAL starts over, a file grown by a burst is cut back to this
    // size. Cutting it is an ftruncate on the committing (event-loop) thread
    // that costs ~1 ms per 2 MB freed, so the limit sits above what steady
    // work reaches (the backstop's WAL): only a burst beyond it is cut back.
    database.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    checkpointer = startWalCheckpointer(filename);
  }
  return new ImmediateSqliteDialect({ database: withStatementCache(database) }, async () => {
    await checkpointer?.stop();
  });
}

/** Bytes the WAL file is cut back to after a burst: twice the backstop's WAL at 4 KiB pages. */
const WAL_SIZE_LIMIT = 2 * BACKSTOP_PAGES * 4096;

/** Prepared statements kept per connection; Kysely would otherwise prepare every query anew. */
const STATEMENT_CACHE = 256;

/**
 * The connection as Kysely sees it, but `prepare` reuses a statement prepared
 * before for the same SQL text (least recently used ones are dropped): query
 * builders produce a few distinct texts, and compiling them was a large share
 * of the CPU time of bulk writes.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDatabase.Database {
  // Each entry keeps the text it was first prepared with: a hit moves the entry
  // to the back under that (long-lived) string, not under the caller's fresh
  // copy, which the cache would otherwise keep alive until the next hit.
  const cache = new Map<string, { readonly text: string; readonly statement: SqliteDatabase.Statement }>();
  const prepare = (text: string): SqliteDatabase.Statement => {
    let entry = cache.get(text);
    if (entry !== undefined) {
      cache.delete(entry.text);
    } else {
      entry = { text, statement: database.prepare(text) };
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    }
    cache.set(entry.text, entry);
    return entry.statement;
  };
  return new Proxy(database, {
    get(target, name, receiver) {
      if (name === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? (value.bind(target) as unknown) : value;
    },
  });
}

/**
 * Creates a new database file readable by its owner only (0600), in a
 * directory made 0700 if it is new, whatever the umask: the database holds
 * password and token hashes. SQLite gives its WAL and shared-memory files the
 * database file's mode. Existing files and directories keep theirs.
 */
function createPrivately(filename: string): void {
  const dir = dirname(filename);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(filename)) closeSync(openSync(filename, 'a', 0o600));
}
