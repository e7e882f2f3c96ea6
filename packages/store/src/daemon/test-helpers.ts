// Test support for the daemon client (not exported): instantiate derivations
// with the real nix tools, ask nix-store, run a second daemon with its own store.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ENV = { ...process.env, NIX_REMOTE: 'daemon' };

/** Runs a nix command and returns its stdout (stderr goes to the test's log only on failure). */
export function nix(command: string, args: readonly string[]): Buffer {
  return execFileSync(command, args, { env: ENV, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
}

/** A derivation built by /bin/sh running `script`; `tag` makes it unique. Returns the .drv path. */
export function instantiate(dir: string, name: string, script: string, tag: string): string {
  const file = join(dir, `${name}-${tag}.nix`);
  writeFileSync(
    file,
    `derivation { name = ${JSON.stringify(name)}; system = builtins.currentSystem; builder = "/bin/sh";
      PATH = "/usr/bin:/bin"; args = [ "-c" ${JSON.stringify(script)} ]; tag = ${JSON.stringify(tag)}; }`,
  );
  return nix('nix-instantiate', [file]).toString('utf8').trim();
}

/** Makes a temporary directory; the caller removes it with `rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A second nix-daemon serving its own store under `dir/root`, on `dir/socket`. */
export interface SecondDaemon {
  readonly socket: string;
  readonly root: string;
  stop(): Promise<void>;
}

/**
 * Starts a second nix-daemon and waits until its socket exists (bounded).
 * `storeDir` other than /nix/store (e.g. Guix's /gnu/store) keeps its files
 * under `root/nix/store` all the same.
 */
export async function startSecondDaemon(dir: string, storeDir = '/nix/store'): Promise<SecondDaemon> {
  const socket = join(dir, 'socket');
  const root = join(dir, 'root');
  const log = openSync(join(dir, 'daemon.log'), 'a');
  const child: ChildProcess = spawn(
    'nix-daemon',
    [
      '--store',
      `local?store=${storeDir}&root=${root}`,
      '--option',
      'sandbox',
      'true',
      '--option',
      'sandbox-paths',
      '/bin=/usr/bin /usr /lib=/usr/lib /lib64=/usr/lib64',
    ],
    { env: { ...process.env, NIX_DAEMON_SOCKET_PATH: socket }, stdio: ['ignore', log, log] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 500 && !existsSync(socket); i++) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!existsSync(socket)) {
    child.kill('SIGKILL');
    throw new Error(`the second nix-daemon did not create ${socket}; see ${join(dir, 'daemon.log')}`);
  }
  return {
    socket,
    root,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Removes a test directory (a store under it may hold read-only directories). */
export function removeDir(dir: string): void {
  try {
    execFileSync('chmod', ['-R', 'u+w', dir], { stdio: 'ignore' });
  } catch {
    // Nothing to make writable.
  }
  rmSync(dir, { recursive: true, force: true });
}
