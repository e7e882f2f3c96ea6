// Test support: runs the real `gbc` executable (bin/gbc, from source) as a
// child process, and starts a coordinator with `gbc coordinator` on a SQLite
// file in a temporary directory on free ports, its output sent to files.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The gbc launcher of this workspace. */
export const GBC_BIN = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../bin/gbc');

/**
 * Long-running gbc processes still going. A test whose set-up timed out never
 * stops what it started; these are killed when the test file's process exits,
 * so no coordinator or agent outlives its test.
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns a long-running gbc process, tracked until it exits. */
function spawnTracked(
  dir: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  out: number,
  err: number,
): ChildProcess {
  const child = spawn(GBC_BIN, [...args], { cwd: dir, env: cleanEnv(env), stdio: ['ignore', out, err] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** How long a coordinator may take to print where it listens: generous, so that only a hang fails. */
const COORDINATOR_START_BOUND_MS = 300_000;

/** What a finished run of gbc printed and its exit code. */
export interface GbcRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of runGbc. */
export interface RunOptions {
  readonly cwd?: string;
  /** Added to a clean environment (no GBC_* variables from the test run leak in). */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
}

/** The test process's environment without GBC_* variables. */
export function cleanEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GBC_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs `gbc args…` to its end. */
export function runGbc(args: readonly string[], options: RunOptions = {}): Promise<GbcRun> {
  return new Promise((done, fail) => {
    const child = spawn(GBC_BIN, [...args], {
      cwd: options.cwd,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** A coordinator run by `gbc coordinator`. */
export interface CoordinatorProcess {
  readonly clientUrl: string;
  readonly agentUrl: string;
  /** Where the binary cache also listens, with `--cache-communication`. */
  readonly cacheUrl?: string;
  /** Where metrics listen, with `--metrics-communication`. */
  readonly metricsUrl?: string;
  /** Where the read-only dashboard listens, with `--dashboard-communication`. */
  readonly dashboardUrl?: string;
  readonly pid: number;
  /** The binary cache's helper processes, with `--cache-processes` > 1. */
  readonly cacheHelperPids?: readonly number[];
  /** Sends SIGTERM and resolves to the exit code. */
  stop(): Promise<number>;
  /** What it wrote on standard error so far. */
  log(): string;
}

/** Starts `gbc coordinator --json` in `dir` with `args`; resolves once it prints where it listens. */
export async function startCoordinator(
  dir: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<CoordinatorProcess> {
  const outFile = join(dir, 'coordinator.out');
  const errFile = join(dir, 'coordinator.err');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  const child = spawnTracked(dir, ['coordinator', '--json', ...args], env, out, err);
  closeSync(out);
  closeSync(err);
  const exited = new Promise<number>((done) =>
    child.on('exit', (code, signal) => done(code ?? (signal === null ? -1 : 128))),
  );
  const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const deadline = Date.now() + COORDINATOR_START_BOUND_MS;
  for (;;) {
    const text = readFileSync(outFile, 'utf8');
    if (text.includes('}')) {
      const info = JSON.parse(text) as {
        clientUrl: string;
        agentUrl: string;
        cacheUrl?: string;
        metricsUrl?: string;
        dashboardUrl?: string;
        pid: number;
        cacheHelperPids?: number[];
      };
      return {
        ...info,
        stop: () => {
          if (!ended()) child.kill('SIGTERM');
          return exited;
        },
        log: () => readFileSync(errFile, 'utf8'),
      };
    }
    if (ended()) throw new Error(`gbc coordinator exited before listening: ${readFileSync(errFile, 'utf8')}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gbc coordinator did not listen within ${COORDINATOR_START_BOUND_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A long-running gbc process (e.g. `gbc agent`) with its output in `dir/NAME.out` and `dir/NAME.err`. */
export interface GbcProcess {
  /** Sends SIGTERM and resolves to the exit code. */
  stop(): Promise<number>;
  /** What it wrote on standard error so far. */
  log(): string;
}

/** Starts `gbc args…` in `dir`, output to files; `env` is added to a clean environment. */
export function startGbc(
  dir: string,
  name: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): GbcProcess {
  const out = openSync(join(dir, `${name}.out`), 'w');
  const err = openSync(join(dir, `${name}.err`), 'w');
  const child = spawnTracked(dir, args, env, out, err);
  closeSync(out);
  closeSync(err);
  let ended = false;
  const exited = new Promise<number>((done) =>
    child.on('exit', (code, signal) => {
      ended = true;
      done(code ?? (signal === null ? -1 : 128));
    }),
  );
  return {
    stop: () => {
      if (!ended) child.kill('SIGTERM');
      return exited;
    },
    log: () => readFileSync(join(dir, `${name}.err`), 'utf8'),
  };
}

/** Polls `probe` until it returns a value (not undefined); fails after `timeoutMs` (default 30 s). */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
