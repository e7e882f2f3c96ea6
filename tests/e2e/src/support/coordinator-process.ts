// Starts coordinator-main.ts as a child process (SQLite file + data dir under
// a directory the caller owns) and hands back its URLs, a client, and ways to
// stop it (SIGTERM) or kill it (SIGKILL). Its standard error goes to a file.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoordinatorClient } from '@gbc/protocol';

/** What coordinator-main.ts reads from its first argument. */
export interface LaunchOptions {
  readonly databaseUri: string;
  readonly dataDir: string;
  /** `/nix/store` for the client API and the cache. */
  readonly storeDir: string;
  /** The coordinator's NAR size limit (`uploads.maxNarSize`). */
  readonly maxNarSize?: number;
  readonly leaseSeconds?: number;
}

/** A running coordinator process. */
export interface CoordinatorProcess {
  readonly pid: number;
  readonly agentUrl: string;
  readonly clientUrl: string;
  readonly client: CoordinatorClient;
  /** Where its standard error goes. */
  readonly logFile: string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('./coordinator-main.ts', import.meta.url));

/** Starts a coordinator on `sqlite://<dir>/gbc.db` with data in `<dir>/data` (both kept across restarts). */
export async function startCoordinatorProcess(
  dir: string,
  options: Partial<LaunchOptions> = {},
): Promise<CoordinatorProcess> {
  const launch: LaunchOptions = {
    databaseUri: `sqlite://${join(dir, 'gbc.db')}`,
    dataDir: join(dir, 'data'),
    storeDir: '/nix/store',
    ...options,
  };
  const logFile = join(dir, `coordinator-${Date.now()}.log`);
  const err = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', MAIN, JSON.stringify(launch)],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', err],
      env: { ...process.env },
    },
  );
  closeSync(err);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let ready: { pid: number; agentUrl: string; clientUrl: string };
  try {
    ready = await firstLine(child, exited, logFile);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  const signal = async (name: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return {
    pid: ready.pid,
    agentUrl: ready.agentUrl,
    clientUrl: ready.clientUrl,
    logFile,
    client: new CoordinatorClient({ baseUrl: ready.clientUrl }),
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}

async function firstLine(
  child: ChildProcess,
  exited: Promise<void>,
  logFile: string,
): Promise<{ pid: number; agentUrl: string; clientUrl: string }> {
  const lines = createInterface({ input: child.stdout! });
  const line = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then(() => {
      throw new Error(
        `the coordinator exited before listening: ${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the coordinator did not listen within 90 s')), 90_000).unref(),
    ),
  ]);
  lines.close();
  child.stdout!.resume();
  return JSON.parse(line) as { pid: number; agentUrl: string; clientUrl: string };
}
