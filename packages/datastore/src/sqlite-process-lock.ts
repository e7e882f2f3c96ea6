// One coordinator process per SQLite database: the coordinator holds an
// exclusive lock on a small companion file (`<database>-coordinator.lock`, an
// SQLite file in exclusive locking mode) for as long as it runs. The operating
// system drops the lock when the process ends, even by SIGKILL, so a crash
// leaves nothing to clean up; a second coordinator is refused at start with a
// clear error instead of scheduling beside the first with a queue that the
// first one's changes never reach. Other tools (the CLI's admin commands,
// backups) open the database itself and are not affected.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { DatastoreUriError } from './errors.js';

/** A held lock; `release()` lets another coordinator start. */
export interface SqliteProcessLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the coordinator lock of the SQLite database `filename` (nothing to
 * lock for `:memory:`). @throws DatastoreUriError `in-use` when another
 * coordinator holds it.
 */
export function lockSqliteForCoordinator(filename: string): SqliteProcessLock {
  const file = `${filename}-coordinator.lock`;
  if (filename === ':memory:') return { file, release: () => undefined };
  // Taken before the database is opened, which creates its directory: so does the lock.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new SqliteDatabase(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = exclusive');
    db.pragma('journal_mode = delete');
    // The first write takes the EXCLUSIVE lock; exclusive locking mode keeps it until close.
    db.exec('create table if not exists holder (pid integer, since text)');
    db.exec('delete from holder');
    db.prepare('insert into holder (pid, since) values (?, ?)').run(process.pid, new Date().toISOString());
  } catch (cause) {
    db.close();
    if ((cause as { code?: string }).code?.startsWith('SQLITE_BUSY') === true)
      throw new DatastoreUriError(
        'in-use',
        `another coordinator process is using the SQLite database ${filename} (it holds ${file}): ` +
          'SQLite serves one coordinator process; stop the other one, or move to PostgreSQL to run several',
        { cause },
      );
    throw cause;
  }
  return {
    file,
    release: () => {
      if (db.open) db.close();
    },
  };
}
