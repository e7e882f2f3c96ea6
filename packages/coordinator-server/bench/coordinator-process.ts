// The coordinator of the coordinator benchmark, in a process of its own as
// `gbc coordinator` runs: what it holds in memory is then only what a
// coordinator holds, not the benchmark's bulk insert. Driven over IPC by
// coordinator.bench.ts: it starts, listens, and measures its own event-loop
// delay and CPU time between `measure` and `report`. With
// GBC_BENCH_PROFILE_DIR set it also writes a CPU profile of its main thread
// over each measured window there (`coordinator-N.cpuprofile`, for Chrome's
// DevTools or speedscope): the profile then holds only the load, not the start.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createCoordinator, listen, silentLogger } from '../src/index.js';
import { parseProcStat } from './proc-stat.js';

/** What the benchmark sends. */
export type CoordinatorCommand =
  | { readonly kind: 'start'; readonly databaseUri: string; readonly dataDir: string; readonly cwd: string }
  | { readonly kind: 'measure' }
  | { readonly kind: 'report' }
  | { readonly kind: 'gc' }
  | { readonly kind: 'stop' };

/** What the coordinator process answers, one message per command. */
export type CoordinatorReply =
  | {
      readonly kind: 'started';
      readonly startMs: number;
      readonly rebuildMs: number;
      readonly agentUrl: string;
    }
  | { readonly kind: 'measuring' }
  | {
      readonly kind: 'report';
      readonly cpuUs: number;
      /** CPU time (µs) of each kind of thread, by its name. */
      readonly threadsCpuUs: Record<string, number>;
      readonly stallP99Ns: number;
      readonly stallMaxNs: number;
    }
  | { readonly kind: 'collected'; readonly rssBytes: number }
  | { readonly kind: 'stopped' }
  | { readonly kind: 'error'; readonly message: string };

let stop: (() => Promise<void>) | undefined;
let monitor: IntervalHistogram | undefined;
let cpuFrom = process.cpuUsage();
let threadsFrom = threadCpuUs();

/**
 * Each thread's user+system time (µs) by thread name, from /proc: `main` (the
 * event loop), `gbc-claims` and `gbc-checkpoint` (SQLite's worker threads name
 * themselves), `node` (V8's GC helpers and libuv's thread pool, together).
 */
function threadCpuUs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = parseProcStat(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      const name = tid === String(process.pid) ? 'main' : stat.name;
      out.set(name, (out.get(name) ?? 0) + stat.cpuUs);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

const profileDir = process.env.GBC_BENCH_PROFILE_DIR;
let profiler: Session | undefined;
let profiles = 0;

/** Starts a CPU profile of this thread when GBC_BENCH_PROFILE_DIR is set. */
async function startProfile(): Promise<void> {
  if (profileDir === undefined) return;
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}

/** Writes the profile started by {@link startProfile}, if any. */
async function writeProfile(): Promise<void> {
  if (profiler === undefined || profileDir === undefined) return;
  const { profile } = await profiler.post('Profiler.stop');
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(join(profileDir, `coordinator-${++profiles}.cpuprofile`), JSON.stringify(profile));
}

async function handle(command: CoordinatorCommand): Promise<CoordinatorReply> {
  switch (command.kind) {
    case 'start': {
      const t0 = performance.now();
      const c = await createCoordinator({
        databaseUri: command.databaseUri,
        dataDir: command.dataDir,
        logger: silentLogger,
        cwd: command.cwd,
        agentAuth: { cacheMs: 3_600_000 },
      });
      const started = await c.start();
      const startMs = performance.now() - t0;
      const server = await listen(c, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
      stop = async () => {
        await server.close();
        await c.stop();
      };
      return { kind: 'started', startMs, rebuildMs: started.rebuildMs, agentUrl: server.agentUrl };
    }
    case 'measure':
      // One monitor per measured window: one enabled again would count the gap since it was disabled.
      monitor = monitorEventLoopDelay({ resolution: 1 });
      monitor.enable();
      await startProfile();
      cpuFrom = process.cpuUsage();
      threadsFrom = threadCpuUs();
      return { kind: 'measuring' };
    case 'report': {
      const cpu = process.cpuUsage(cpuFrom);
      const threadsCpuUs: Record<string, number> = {};
      for (const [name, us] of threadCpuUs()) threadsCpuUs[name] = us - (threadsFrom.get(name) ?? 0);
      monitor?.disable();
      await writeProfile();
      return {
        kind: 'report',
        cpuUs: cpu.user + cpu.system,
        threadsCpuUs,
        stallP99Ns: monitor?.percentile(99) ?? 0,
        stallMaxNs: monitor?.max ?? 0,
      };
    }
    case 'gc':
      globalThis.gc?.();
      return { kind: 'collected', rssBytes: process.memoryUsage.rss() };
    case 'stop':
      await stop?.();
      return { kind: 'stopped' };
  }
}

process.on('message', (command: CoordinatorCommand) => {
  handle(command).then(
    (reply) => {
      process.send!(reply);
      if (reply.kind === 'stopped') process.disconnect();
    },
    (error: unknown) =>
      process.send!({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
