// The chaos run's coordinator as a process that can be killed and started
// again on the same database, data directory and ports: each incarnation
// logs to a file of its own (`coordinator-<n>.log`).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** What chaos-coordinator-main.ts reads from its first argument. */
export interface ChaosCoordinatorLaunch {
  readonly databaseUri: string;
  readonly dataDir: string;
  /** `http://127.0.0.1:<port>`, the same for every incarnation. */
  readonly agentUrl: string;
  readonly clientUrl: string;
  readonly leaseSeconds: number;
  readonly leaseCheckIntervalMs: number;
  /** How long a claimed hook event stays claimed, ms. */
  readonly hookLeaseMs: number;
  /** The file the build-success command hook appends to. */
  readonly hookRecord: string;
}

/** A coordinator that a chaos run kills and restarts. */
export interface ChaosCoordinator {
  readonly launch: ChaosCoordinatorLaunch;
  /** Incarnations started so far. */
  readonly starts: number;
  /** Whether an incarnation is running. */
  readonly running: boolean;
  /** Starts an incarnation and waits until it listens (at most 120 s). */
  start(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`); true when it exited on its own. */
  stop(graceMs?: number): Promise<boolean>;
}

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./chaos-coordinator-main.ts', import.meta.url));

/** A free TCP port on 127.0.0.1 (free when asked; the coordinator binds it soon after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/** A coordinator for `launch`, logging into `dir`; not started yet. */
export function chaosCoordinator(dir: string, launch: ChaosCoordinatorLaunch): ChaosCoordinator {
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;
  const alive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function start(): Promise<void> {
    if (alive()) throw new Error('the coordinator is already running');
    starts += 1;
    const logFile = join(dir, `coordinator-${starts}.log`);
    const err = openSync(logFile, 'a');
    const c = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', MAIN, JSON.stringify(launch)],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', err],
        env: { ...process.env },
      },
    );
    closeSync(err);
    child = c;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    const lines = createInterface({ input: c.stdout! });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<string>((resolve) => lines.once('line', resolve)),
        exited.then(() => {
          throw new Error(
            `coordinator #${starts} exited before listening: ${readFileSync(logFile, 'utf8').slice(-2000)}`,
          );
        }),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(new Error(`coordinator #${starts} did not listen within 120 s; see ${logFile}`)),
              120_000,
            )),
        ),
      ]);
    } catch (error) {
      c.kill('SIGKILL');
      await exited;
      throw error;
    } finally {
      clearTimeout(timer);
      lines.close();
    }
    c.stdout!.resume();
  }

  async function signal(name: NodeJS.Signals): Promise<void> {
    if (alive()) child!.kill(name);
    await exited;
  }

  return {
    launch,
    get starts() {
      return starts;
    },
    get running() {
      return alive();
    },
    start,
    kill: () => signal('SIGKILL'),
    async stop(graceMs = 30_000) {
      if (!alive()) return true;
      const timer = setTimeout(() => child?.kill('SIGKILL'), graceMs);
      await signal('SIGTERM');
      clearTimeout(timer);
      return child?.signalCode !== 'SIGKILL';
    },
  };
}
