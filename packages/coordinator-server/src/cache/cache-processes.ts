// Helper processes of the binary cache's own port (`cacheUrl`,
// `cacheProcesses` > 1). One Node thread answers some 20,000 narinfos/s on a
// core here, at most half of what a static web server with a worker per core
// does; the helpers are that worker per core. Each is a process of its own
// (cache-process.ts) sharing this process's listening socket — handed over
// IPC, so the kernel spreads the port's connections over every process
// accepting on it, this one included — and answering with the same code:
// the cache's fast path, then its Hono app. It opens the datastore and the
// storage for reading only and keeps its own narinfo cache, with the same
// validators as this process (the keys and their load time are handed over),
// so a client gets the same bytes, ETag and Last-Modified from any of them.
//
// Nothing is lost with a helper: it holds no state of its own. One that dies
// is started again (after 1 s, doubling to 30 s while they keep dying); one
// whose parent dies exits (its IPC channel closes). Removed outputs
// (retention) are told to every helper, and `OutputRemovals.notify` resolves
// only when each has forgotten them — a helper that does not answer within
// `ackTimeoutMs` is killed instead — so no process still names a NAR file
// that retention is about to delete.
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { formatGuixSecretKey, formatSecretKey, parseGuixSecretKey, parseSecretKey } from '@gbc/store';
import type { RequestTimeouts } from '../coordinator/request-timeouts.js';
import type { Logger } from '../logger.js';
import type { StorageLocation } from '../storage/open-storage.js';
import type { ResolvedCacheOptions } from './cache-options.js';
import type { OutputRemovals } from './output-removals.js';

/** What a helper needs to answer as this process does; plain data, sent over IPC. */
export interface CacheProcessSpec {
  readonly databaseUri: string;
  readonly cwd: string;
  readonly storage: StorageLocation;
  readonly cache: SentCacheOptions;
  readonly timeouts?: RequestTimeouts;
}

/** {@link ResolvedCacheOptions} with its keys as the texts of their key files. */
export interface SentCacheOptions extends Omit<ResolvedCacheOptions, 'signingKey' | 'guixSigningKey'> {
  readonly signingKey: string | null;
  readonly guixSigningKey: string | null;
}

/** The messages between this process and a helper. */
export type ToHelper =
  | { readonly type: 'serve'; readonly spec: CacheProcessSpec }
  | { readonly type: 'removed'; readonly id: number; readonly paths: readonly string[] }
  | { readonly type: 'stop' };
export type FromHelper =
  | { readonly type: 'hello' }
  | { readonly type: 'ready' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'removed'; readonly id: number }
  | {
      readonly type: 'log';
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly message: string;
      readonly fields?: Record<string, unknown>;
    };

/** The cache options as a helper receives them. */
export function sendCacheOptions(options: ResolvedCacheOptions): SentCacheOptions {
  const { signingKey, guixSigningKey, ...rest } = options;
  return {
    ...rest,
    signingKey: signingKey === null ? null : formatSecretKey(signingKey),
    guixSigningKey: guixSigningKey === null ? null : formatGuixSecretKey(guixSigningKey),
  };
}

/** The cache options a helper received, keys loaded again. */
export function receivedCacheOptions(sent: SentCacheOptions): ResolvedCacheOptions {
  const { signingKey, guixSigningKey, ...rest } = sent;
  return {
    ...rest,
    signingKey: signingKey === null ? null : parseSecretKey(signingKey),
    guixSigningKey: guixSigningKey === null ? null : parseGuixSecretKey(guixSigningKey),
  };
}

/** Options of {@link startCacheProcesses}. */
export interface CacheProcessesOptions {
  /** The listening socket of the cache's port. */
  readonly server: Server;
  /** Helpers to run. */
  readonly count: number;
  readonly spec: CacheProcessSpec;
  /** The coordinator's removals: each is told to every helper. */
  readonly removals: OutputRemovals;
  /** Helpers' log lines are written here, with their pid. */
  readonly logger: Logger;
  /** How long a helper may take to forget removed outputs before it is killed. Default 10,000 ms. */
  readonly ackTimeoutMs?: number;
  /** How long a helper may take to start serving. Default 60,000 ms. */
  readonly startTimeoutMs?: number;
  /** Called with each helper's pid as it is started (tests). */
  readonly onSpawn?: (pid: number) => void;
}

/** Running helpers. */
export interface CacheProcesses {
  /** Process ids of the helpers serving now (started, not yet ended). */
  readonly pids: () => number[];
  /** Helpers started in place of ones that ended, so far. */
  readonly restarts: () => number;
  /** Stops every helper (each closes its connections), and starts no more. */
  stop(): Promise<void>;
}

interface Helper {
  readonly child: ChildProcess;
  /** It listens for messages: from now on it is told every removal. */
  greeted: boolean;
  /** It serves. */
  ready: boolean;
  readonly exited: Promise<void>;
  readonly acks: Map<number, () => void>;
}

const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A helper that ran this long resets the restart delay. */
const HEALTHY_MS = 60_000;

/**
 * Starts `count` helpers on `server`'s socket and resolves once each serves;
 * rejects (stopping those started) when one cannot start. See the file header.
 */
export async function startCacheProcesses(options: CacheProcessesOptions): Promise<CacheProcesses> {
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const helpers = new Set<Helper>();
  let stopping = false;
  let nextAck = 0;
  let restartDelay = RESTART_FIRST_MS;
  let restarted = 0;
  const restarts = new Set<NodeJS.Timeout>();

  // A restart that does not come to serve is retried like a helper that died: the pool never stays short.
  const restartLater = (): void => {
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (stopping) return;
      restarted += 1;
      spawnHelper(true).catch((error: Error) =>
        options.logger.error('cache helper process restart failed', { error: error.message }),
      );
    }, restartDelay);
    restarts.add(timer);
    restartDelay = Math.min(RESTART_MAX_MS, restartDelay * 2);
  };

  /** Starts a helper; resolves once it serves. A first start that fails is not retried: the caller fails. */
  const spawnHelper = (restart: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      const entryPoint = helperModule();
      const child = fork(entryPoint.entry, [], {
        execArgv: entryPoint.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'json',
      });
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      if (child.pid !== undefined) options.onSpawn?.(child.pid);
      const helper: Helper = { child, greeted: false, ready: false, exited, acks: new Map() };
      helpers.add(helper);
      const startedAt = Date.now();
      const startTimer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`a cache helper process did not start serving within ${startTimeoutMs / 1000} s`));
      }, startTimeoutMs);
      child.on('message', (m: FromHelper) => {
        switch (m.type) {
          case 'hello':
            helper.greeted = true;
            if (stopping) child.kill('SIGTERM');
            else child.send({ type: 'serve', spec: options.spec } satisfies ToHelper, options.server);
            return;
          case 'ready':
            helper.ready = true;
            clearTimeout(startTimer);
            resolve();
            return;
          case 'failed':
            clearTimeout(startTimer);
            reject(new Error(`a cache helper process could not start: ${m.message}`));
            return;
          case 'removed':
            helper.acks.get(m.id)?.();
            return;
          case 'log':
            options.logger[m.level](m.message, { ...m.fields, cacheProcess: child.pid });
            return;
        }
      });
      child.on('error', (error) =>
        options.logger.warn('cache helper process error', { error: String(error) }),
      );
      child.once('exit', (code, signal) => {
        clearTimeout(startTimer);
        helpers.delete(helper);
        for (const ack of helper.acks.values()) ack();
        reject(new Error(`a cache helper process exited before serving (${signal ?? `code ${code}`})`));
        if (stopping || (!helper.ready && !restart)) return;
        if (helper.ready && Date.now() - startedAt >= HEALTHY_MS) restartDelay = RESTART_FIRST_MS;
        options.logger.warn('cache helper process ended; starting another', {
          pid: child.pid,
          code,
          signal,
          inMs: restartDelay,
        });
        restartLater();
      });
    });

  // Resolves once `h` has forgotten `paths`, or has ended: one that does not answer in time is killed.
  const forget = (h: Helper, paths: readonly string[]): Promise<void> =>
    new Promise((resolve) => {
      const id = nextAck++;
      const done = () => {
        clearTimeout(timer);
        h.acks.delete(id);
        resolve();
      };
      const timer = setTimeout(() => {
        options.logger.error('cache helper process did not forget removed outputs in time; killing it', {
          pid: h.child.pid,
        });
        h.child.kill('SIGKILL');
        void h.exited.then(done);
      }, ackTimeoutMs);
      h.acks.set(id, done);
      h.child.send({ type: 'removed', id, paths } satisfies ToHelper, (error) => {
        // Not sent: the channel closed, the helper is going; its exit answers.
        if (error) void h.exited.then(done);
      });
    });
  // Every greeted helper is told: before then it holds nothing (it has not been told what to serve).
  const tell = (paths: readonly string[]): Promise<void> =>
    Promise.all([...helpers].filter((h) => h.greeted && h.child.connected).map((h) => forget(h, paths))).then(
      () => undefined,
    );
  const unsubscribe = options.removals.subscribe(tell);

  const stop = async (): Promise<void> => {
    stopping = true;
    unsubscribe();
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    await Promise.all(
      [...helpers].map(async (h) => {
        // One that has not greeted yet may not listen for messages: it is simply ended.
        if (h.greeted && h.child.connected)
          h.child.send({ type: 'stop' } satisfies ToHelper, () => undefined);
        else h.child.kill('SIGTERM');
        const killer = setTimeout(() => h.child.kill('SIGKILL'), 5000);
        await h.exited;
        clearTimeout(killer);
      }),
    );
  };

  try {
    await Promise.all(Array.from({ length: options.count }, () => spawnHelper(false)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pids: () => [...helpers].filter((h) => h.ready).map((h) => h.child.pid!),
    restarts: () => restarted,
    stop,
  };
}

/**
 * How to start a helper (found when one is started, not when this module is
 * loaded): its module beside this one — from source (`.ts`,
 * the workspace and the tests), through tsx with the `source` condition, as
 * bin/gbc runs; built, as plain JavaScript.
 */
function helperModule(): { readonly entry: string; readonly execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(
    new URL(fromSource ? './cache-process.ts' : './cache-process.js', import.meta.url),
  );
  if (!fromSource) return { entry, execArgv: [] };
  const loader = createRequire(import.meta.url).resolve('tsx');
  return { entry, execArgv: ['--conditions=source', '--import', `file://${loader}`] };
}
