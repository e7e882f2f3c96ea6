// WAL checkpoints on a worker thread. By default SQLite checkpoints inside the
// commit that grows the WAL past 1000 pages: copying pages into the database
// file and syncing it, on the event loop of the coordinator, for whichever
// request happened to commit. Here a worker with its own connection
// checkpoints every 20 ms (see WORKER for why so often), and
// the main connection's own automatic checkpoint stays only as a backstop (at
// a much larger WAL) in case the worker cannot keep up or dies.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL size, in pages, at which the main connection checkpoints by itself. */
export const BACKSTOP_PAGES = 16_384;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// Named for top -H and ps -L (Linux; best effort).
try { require('node:fs').writeFileSync('/proc/thread-self/comm', 'gbc-checkpoint'); } catch {}
const Database = require(workerData.module);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
// A PASSIVE checkpoint never makes a writer or a reader wait. It copies the
// frames there were when it began; SQLite starts the WAL over (instead of
// growing it) when a writer finds every frame copied, so passes come often
// (each has little to copy and is soon done) to leave such moments between
// commits. A pass with nothing to copy costs next to nothing.
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
`;

/**
 * A running checkpointer. `stop` ends it and resolves once its thread has
 * closed its connection: only then may the main connection close (and, being
 * the last, checkpoint the rest and remove the WAL) or the files be removed;
 * a thread still running could otherwise create the WAL or shared-memory file
 * again beside a database being deleted.
 */
export interface WalCheckpointer {
  stop(): Promise<void>;
}

/** Starts checkpointing `filename` (a database in WAL mode) every `intervalMs` ms on a worker thread. */
export function startWalCheckpointer(
  filename: string,
  intervalMs = 20,
  onError: (message: string) => void = warnOnce(filename),
): WalCheckpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { filename, intervalMs, module } });
  worker.unref();
  let stopped = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  // Once stopped, a failure is no one's concern: the main connection's close checkpoints
  // the rest. (A worker stopped before it got going may still try to open a database
  // whose directory its test already removed.)
  const report = (message: string): void => {
    if (!stopped) onError(message);
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error !== undefined) report(m.error);
  });
  worker.on('error', (error) => report(error.message));
  return {
    stop() {
      if (!stopped) {
        stopped = true;
        // Someone now waits for the exit: the process must stay up until it comes.
        worker.ref();
        worker.postMessage('stop');
      }
      return exited;
    },
  };
}

/**
 * The default error handler: one process warning (on stderr) per database.
 * The backstop keeps the WAL bounded without the worker, so this is worth
 * telling but not worth stopping for; a warning per 20 ms tick would drown the log.
 */
function warnOnce(filename: string): (message: string) => void {
  let told = false;
  return (message) => {
    if (told) return;
    told = true;
    process.emitWarning(
      `WAL checkpoints of ${filename} on the worker thread failed (${message}); commits checkpoint by themselves past ${BACKSTOP_PAGES} WAL pages`,
      { code: 'GBC_WAL_CHECKPOINTER' },
    );
  };
}
