// Claims on a worker thread (SQLite). better-sqlite3 runs statements on the
// thread that calls them: in the coordinator that is the event loop, and a
// claim (an UPDATE of the claimed builds, an INSERT of their attempts, the
// commit) was half of its CPU time per fetch-builds call, paid while every
// other request waited. The worker has its own connection to the same file
// and runs exactly the statements of the in-thread claim; SQLite's write lock
// (BEGIN IMMEDIATE, busy timeout) orders it with the main connection's writes.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { SQLITE_CLAIM_SQL, type ClaimRunner, type ClaimedAttempt } from './attempts-claim-many.js';
import { DatastoreError } from './errors.js';

/** A running claim worker; `failed` once it has died other than by `stop` (callers then claim on their own thread). */
export type SqliteClaimWorker = ClaimRunner;

// Plain JavaScript run with `eval`: no loader needed for the sources. The
// statements are claimSqlite's (attempts-claim-many.ts), passed in as text,
// prepared once per number of builds (the last 128 of each kind kept).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// Named for top -H and ps -L (Linux; best effort).
try { require('node:fs').writeFileSync('/proc/thread-self/comm', 'gbc-claims'); } catch {}
const Database = require(workerData.module);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('foreign_keys = ON');
const prepared = { update: new Map(), insert: new Map() };
const statement = (kind, n) => {
  const map = prepared[kind];
  let s = map.get(n);
  if (s === undefined) {
    if (map.size >= 128) map.delete(map.keys().next().value);
    const [head, row, tail] = workerData.sql[kind];
    s = db.prepare(head + new Array(n).fill(row).join(', ') + tail);
    map.set(n, s);
  }
  return s;
};
const claim = db.transaction((items, now, lease) => {
  const rows = statement('update', items.length).all(items.map((i) => i[0]));
  if (rows.length === 0) return [];
  const of = new Map(items.map((i) => [i[0], i]));
  const values = [];
  for (const r of rows) { const i = of.get(r.uuid); values.push(i[2], r.id, i[1], now, lease); }
  const attempts = statement('insert', rows.length).all(values);
  const byBuild = new Map(attempts.map((a) => [a.build_id, a]));
  return rows.map((r) => {
    const a = byBuild.get(r.id);
    return { id: r.id, uuid: r.uuid, path: r.path, timeout_s: r.timeout_s, max_silent_time_s: r.max_silent_time_s, attempt_id: a.id, attempt_uuid: a.uuid };
  });
});
parentPort.on('message', (m) => {
  if (m === 'stop') { db.close(); parentPort.close(); return; }
  try {
    parentPort.postMessage({ id: m.id, rows: claim.immediate(m.items, m.now, m.lease) });
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String(error && error.message), code: error && error.code });
  }
});
`;

/** Options of {@link startSqliteClaimWorker}. */
export interface SqliteClaimWorkerOptions {
  readonly busyTimeoutMs?: number;
  readonly synchronous?: 'normal' | 'full';
}

/** The threads behind the workers, for {@link terminateClaimWorkerThread}. */
const threads = new WeakMap<SqliteClaimWorker, Worker>();

/** Ends a worker's thread abruptly, as a crash would (tests of the fallback). */
export async function terminateClaimWorkerThread(worker: SqliteClaimWorker): Promise<void> {
  await threads.get(worker)?.terminate();
}

/** Starts a claim worker on the SQLite database file `filename` (WAL mode, already migrated). */
export function startSqliteClaimWorker(
  filename: string,
  options: SqliteClaimWorkerOptions = {},
): SqliteClaimWorker {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      filename,
      module,
      sql: SQLITE_CLAIM_SQL,
      busyTimeoutMs: options.busyTimeoutMs ?? 15_000,
      synchronous: options.synchronous === 'full' ? 'FULL' : 'NORMAL',
    },
  });
  const waiting = new Map<number, { resolve(rows: ClaimedAttempt[]): void; reject(error: Error): void }>();
  let next = 0;
  let failure: Error | undefined;
  let stopping = false;
  const failAll = (error: Error) => {
    if (failure === undefined && !stopping) {
      process.emitWarning(`${error.message}; claims of ${filename} run on the main thread from now on`, {
        code: 'GBC_CLAIM_WORKER',
      });
    }
    failure ??= error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  worker.on('message', (m: { id: number; rows?: ClaimedAttempt[]; error?: string; code?: string }) => {
    const w = waiting.get(m.id);
    if (w === undefined) return;
    waiting.delete(m.id);
    if (m.rows !== undefined) w.resolve(m.rows);
    else
      w.reject(
        new DatastoreError(
          'claim-failed',
          `claiming builds failed on the claim worker: ${m.error ?? 'unknown error'}${m.code === undefined ? '' : ` (${m.code})`}`,
        ),
      );
  });
  worker.on('error', (error) =>
    failAll(new DatastoreError('claim-failed', `the claim worker failed: ${error.message}`)),
  );
  worker.on('exit', () => failAll(new DatastoreError('claim-failed', 'the claim worker has stopped')));
  // Idle, it must not keep the process alive; with claims in flight it must.
  worker.unref();
  const claimWorker: SqliteClaimWorker = {
    get failed() {
      return failure !== undefined && !stopping;
    },
    claim(items, now, lease) {
      if (failure !== undefined) return Promise.reject(failure);
      if (items.length === 0) return Promise.resolve([]);
      const id = next++;
      if (waiting.size === 0) worker.ref();
      return new Promise<ClaimedAttempt[]>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, items, now, lease });
      }).finally(() => {
        if (waiting.size === 0) worker.unref();
      });
    },
    async stop() {
      if (failure !== undefined || stopping) return;
      stopping = true;
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Someone now waits for the exit: the process must stay up until it comes.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
  threads.set(claimWorker, worker);
  return claimWorker;
}
