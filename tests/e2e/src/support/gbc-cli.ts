// The real `gbc` command for end-to-end tests: one-shot runs (output
// captured) and long-running processes (`gbc coordinator`, `gbc agent`) whose
// output goes to files, stopped by SIGTERM and waited for.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The workspace's launcher (runs the CLI from its TypeScript sources). */
export const GBC_BIN = fileURLToPath(new URL('../../../../packages/cli/bin/gbc', import.meta.url));

/** A finished `gbc` run. */
export interface GbcResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The test's environment without GBC_* variables (so none leaks into a run), plus `extra`. */
export function gbcEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GBC_')) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs `gbc args…` in `cwd` to its end. */
export function runGbc(args: readonly string[], cwd: string, stdin = ''): Promise<GbcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(GBC_BIN, [...args], { cwd, env: gbcEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr }),
    );
    child.stdin.end(stdin);
  });
}

/** Runs `gbc args…` and returns its standard output; throws with its stderr unless it exits 0. */
export async function gbcOk(args: readonly string[], cwd: string): Promise<string> {
  const r = await runGbc(args, cwd);
  if (r.code !== 0) throw new Error(`gbc ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** A long-running `gbc` process. */
export interface GbcProcess {
  readonly pid: number;
  /** Where its standard error goes. */
  readonly errFile: string;
  /** SIGTERM (if still running), then its exit code. */
  stop(): Promise<number>;
}

/** Starts `gbc args…` in `cwd`; stdout and stderr go to `<cwd>/<name>.out|.err`. */
export function startGbc(cwd: string, name: string, args: readonly string[]): GbcProcess {
  const out = openSync(join(cwd, `${name}.out`), 'w');
  const errFile = join(cwd, `${name}.err`);
  const err = openSync(errFile, 'w');
  const child = spawn(GBC_BIN, [...args], { cwd, env: gbcEnv(), stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  return processHandle(child, errFile);
}

/** A coordinator run by `gbc coordinator --json` and the URLs it printed. */
export interface GbcCoordinator extends GbcProcess {
  readonly agentUrl: string;
  readonly clientUrl: string;
  /** Where the read-only dashboard listens, with `--dashboard-communication`. */
  readonly dashboardUrl?: string;
}

/** Starts `gbc coordinator --json args…` in `cwd` (stderr to `<cwd>/coordinator.err`); resolves once it listens. */
export async function startGbcCoordinator(cwd: string, args: readonly string[]): Promise<GbcCoordinator> {
  const errFile = join(cwd, 'coordinator.err');
  const err = openSync(errFile, 'w');
  const child = spawn(GBC_BIN, ['coordinator', '--json', ...args], {
    cwd,
    env: gbcEnv(),
    stdio: ['ignore', 'pipe', err],
  });
  closeSync(err);
  const handle = processHandle(child, errFile);
  const lines = createInterface({ input: child.stdout! });
  // `--json` prints one object, possibly over several lines: read until it parses.
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  const info = await Promise.race([
    new Promise<{ agentUrl: string; clientUrl: string; dashboardUrl?: string }>((resolve) =>
      lines.on('line', (line) => {
        text += `${line}\n`;
        try {
          resolve(JSON.parse(text) as { agentUrl: string; clientUrl: string; dashboardUrl?: string });
        } catch {
          // not complete yet
        }
      }),
    ),
    new Promise<never>((_, reject) =>
      child.once('exit', () =>
        reject(
          new Error(`gbc coordinator exited before listening: ${readFileSync(errFile, 'utf8').slice(-2000)}`),
        ),
      ),
    ),
    new Promise<never>(
      (_, reject) =>
        (timer = setTimeout(
          () => reject(new Error(`gbc coordinator did not listen within 120 s; see ${errFile}`)),
          120_000,
        )),
    ),
  ])
    .catch(async (error: unknown) => {
      // Never leave a coordinator behind that no caller holds a handle to.
      await handle.stop();
      throw error;
    })
    .finally(() => clearTimeout(timer));
  lines.close();
  child.stdout!.resume();
  return {
    ...handle,
    agentUrl: info.agentUrl,
    clientUrl: info.clientUrl,
    ...(info.dashboardUrl === undefined ? {} : { dashboardUrl: info.dashboardUrl }),
  };
}

function processHandle(child: ChildProcess, errFile: string): GbcProcess {
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? -1 : 128))),
  );
  return {
    pid: child.pid ?? -1,
    errFile,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Where a test agent runs: its coordinator, its daemon, and how the test calls `gbc` on that coordinator. */
export interface GbcAgentPlace {
  readonly dir: string;
  readonly coordinator: GbcCoordinator;
  readonly daemonSocket: string;
  /** `gbc ARGS…` against the coordinator with the test's credentials; resolves to stdout. */
  readonly gbc: (...args: string[]) => Promise<string>;
}

/**
 * Registers a new agent `name` (`gbc agent new`), writes its password to a
 * 0600 file, and starts `gbc agent` on `/nix/store` through the given daemon,
 * with no load limit; `extraArgs` are added to its command line.
 */
export async function startGbcAgent(
  place: GbcAgentPlace,
  name: string,
  extraArgs: readonly string[] = [],
): Promise<GbcProcess> {
  const created = JSON.parse(await place.gbc('agent', 'new', name, '--json')) as {
    agent: { uuid: string };
    password: string;
  };
  const passwordFile = `${name}.password`;
  writeFileSync(join(place.dir, passwordFile), created.password, { mode: 0o600 });
  return startGbc(place.dir, 'agent', [
    'agent',
    '--coordinator-url',
    place.coordinator.agentUrl,
    '--uuid',
    created.agent.uuid,
    '--password-file',
    passwordFile,
    '--store-dir',
    '/nix/store',
    '--daemon-socket',
    place.daemonSocket,
    '--state-dir',
    join(place.dir, 'agent-state'),
    '--max-1min-load-average',
    '1000',
    ...extraArgs,
  ]);
}
