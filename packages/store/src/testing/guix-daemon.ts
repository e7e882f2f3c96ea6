// Test support (subpath `@gbc/store/testing`, source only, never in dist):
// real guix-daemons from $GBC_GUIX_DIR, each in a private mount namespace
// with a store of its own, and whether they can be had here at all.
import { spawn, execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killGroup, killNamespace, mountNamespaceOf } from './process-cleanup.js';

/** The guix-daemon releases built for tests: 1.5.0 announces protocol 0x164, 1.4.0 announces 0x163. */
export const GUIX_DAEMON_VERSIONS = ['1.5.0', '1.4.0'] as const;
/** A guix-daemon release. */
export type GuixDaemonVersion = (typeof GUIX_DAEMON_VERSIONS)[number];

/** guix-daemon's compiled-in store directory. */
export const GUIX_STORE_DIR = '/gnu/store';
/** Where guix-daemon locks the build users it takes (one file per uid), shared by all test daemons. */
const USERPOOL = '/var/guix/userpool';

/** One guix-daemon release a test can run against, or the reason it cannot. */
export interface GuixDaemonCase {
  readonly version: GuixDaemonVersion;
  /** Why this daemon cannot run here; undefined when it can. */
  readonly skip: string | undefined;
  /** A test name: `guix-daemon 1.5.0`, with `(skipped: …)` appended when it cannot run. */
  readonly label: string;
}

/** The directory the daemons were built in ($GBC_GUIX_DIR), or undefined. */
export function guixDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env['GBC_GUIX_DIR'];
  return dir === undefined || dir === '' ? undefined : dir;
}

function missingPiece(version: GuixDaemonVersion, dir: string | undefined): string | undefined {
  if (dir === undefined) return 'no guix-daemon: $GBC_GUIX_DIR unset';
  if (process.getuid?.() !== 0)
    return 'no guix-daemon: tests must run as root (build users, mount namespaces)';
  const needed = [
    join(dir, `daemon-${version}`, 'guix-daemon'),
    join(dir, 'scheme', 'bin', 'guix'),
    join(dir, 'busybox', 'bin', 'busybox'),
    '/etc/guix/signing-key.sec',
    '/etc/guix/acl',
  ];
  const missing = needed.find((file) => !existsSync(file));
  return missing === undefined ? undefined : `no guix-daemon ${version}: ${missing} is missing`;
}

/**
 * Which real guix-daemons can run here, one case per release. Where one
 * cannot, its case carries the reason, to skip with (`describe.skipIf`).
 * With `CI=true` a missing daemon is an error, thrown here, so that CI
 * fails instead of skipping.
 */
export function guixDaemons(env: NodeJS.ProcessEnv = process.env): GuixDaemonCase[] {
  const dir = guixDir(env);
  const cases = GUIX_DAEMON_VERSIONS.map((version): GuixDaemonCase => {
    const skip = missingPiece(version, dir);
    return {
      version,
      skip,
      label: `guix-daemon ${version}${skip === undefined ? '' : ` (skipped: ${skip})`}`,
    };
  });
  const missing = cases.filter((c) => c.skip !== undefined);
  if (env['CI'] === 'true' && missing.length > 0) {
    throw new Error(
      `CI=true, but the real guix-daemons are required: ${missing.map((c) => c.skip).join('; ')}`,
    );
  }
  return cases;
}

/** How to start a test guix-daemon. */
export interface StartGuixDaemonOptions {
  readonly version: GuixDaemonVersion;
  /**
   * Run in a private mount namespace with scratch directories bound over
   * /gnu/store, /var/guix and /var/log/guix (default true): nothing lands in
   * the host's store, and daemons run side by side (sharing the host's build
   * user pool, so that no daemon kills another's builder). False: the host's store.
   */
  readonly privateStore?: boolean;
  /** Further daemon arguments. */
  readonly extraArgs?: readonly string[];
  /** Substitute servers; without them the daemon runs with --no-substitutes. */
  readonly substituteUrls?: readonly string[];
  /** $GBC_GUIX_DIR by default. */
  readonly guixDir?: string;
}

/** A running test guix-daemon. */
export interface GuixDaemonProcess {
  readonly version: GuixDaemonVersion;
  /** `unix:///…/socket`, for createBuildDaemon. */
  readonly socket: string;
  /** Always /gnu/store (as the daemon sees it). */
  readonly storeDir: string;
  /** Where the store's files are readable from outside the daemon's namespace. */
  readonly storeOnDisk: string;
  /** The daemon's stdout and stderr. */
  readonly logFile: string;
  /** PID of the daemon, which leads its own process group. */
  readonly pid: number;
  /** Scratch directory of this daemon (socket, log, private store). */
  readonly dir: string;
  /** Kills the daemon's process group, waits for it to end, removes its directory. */
  stop(): Promise<void>;
}

/** Build users made for the test daemons: they share one pool, so a few more than one daemon needs. */
const BUILD_USERS = 16;

/**
 * Creates the `guixbuild` group with users guixbuilder01 to guixbuilder16,
 * /gnu/store (root:guixbuild 1775), /var/guix, /var/log/guix, /etc/guix, if
 * missing. Idempotent, and safe when test processes race to do it.
 */
export function ensureGuixSetup(): void {
  const exists = (database: string, key: string): boolean => {
    try {
      execFileSync('getent', [database, key], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  // Another process may hold the lock on /etc/passwd, or have made the entry meanwhile.
  const ensure = (database: string, key: string, command: string, args: readonly string[]): void => {
    for (let attempt = 0; !exists(database, key); attempt++) {
      try {
        execFileSync(command, args, { stdio: 'ignore' });
      } catch (error) {
        if (attempt >= 20) throw error;
        execFileSync('sleep', ['0.1']);
      }
    }
  };
  ensure('group', 'guixbuild', 'groupadd', ['--system', 'guixbuild']);
  for (let i = 1; i <= BUILD_USERS; i++) {
    const user = `guixbuilder${String(i).padStart(2, '0')}`;
    ensure('passwd', user, 'useradd', [
      '-g',
      'guixbuild',
      '-G',
      'guixbuild',
      '-d',
      '/var/empty',
      '-s',
      '/usr/sbin/nologin',
      '--system',
      user,
    ]);
  }
  for (const dir of [GUIX_STORE_DIR, '/var/guix', '/var/log/guix', '/etc/guix'])
    mkdirSync(dir, { recursive: true });
  if ((statSync(GUIX_STORE_DIR).mode & 0o7777) !== 0o1775) {
    execFileSync('chgrp', ['guixbuild', GUIX_STORE_DIR]);
    chmodSync(GUIX_STORE_DIR, 0o1775);
  }
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Process groups of daemons started and not yet stopped: killed if the test process exits first. */
const running = new Set<number>();
process.once('exit', () => {
  for (const pgid of running) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * Starts a real guix-daemon (`--build-users-group=guixbuild`,
 * `--no-substitutes` unless `substituteUrls`), logging to a file, and waits
 * (bounded) for its socket. Call `stop()` when done.
 */
export async function startGuixDaemon(options: StartGuixDaemonOptions): Promise<GuixDaemonProcess> {
  const base = options.guixDir ?? guixDir();
  if (base === undefined) throw new Error('cannot start a guix-daemon: $GBC_GUIX_DIR is unset');
  const binary = join(base, `daemon-${options.version}`, 'guix-daemon');
  ensureGuixSetup();
  const dir = mkdtempSync(join(tmpdir(), 'gbc-guixd-'));
  const privateStore = options.privateStore ?? true;
  const storeOnDisk = privateStore ? join(dir, 'store') : GUIX_STORE_DIR;
  const socketPath = join(dir, 'sock', 'socket');
  const logFile = join(dir, 'daemon.log');
  for (const sub of ['sock', 'store', 'var', 'log']) mkdirSync(join(dir, sub));
  execFileSync('chgrp', ['guixbuild', join(dir, 'store')]);
  chmodSync(join(dir, 'store'), 0o1775);
  const substitutes =
    options.substituteUrls === undefined
      ? ['--no-substitutes']
      : [`--substitute-urls=${options.substituteUrls.join(' ')}`];
  const daemonArgs = [
    binary,
    '--build-users-group=guixbuild',
    `--listen=${socketPath}`,
    ...substitutes,
    ...(options.extraArgs ?? []),
  ];
  const exec = `exec ${daemonArgs.map(shellQuote).join(' ')}`;
  // Build users are shared by every daemon here, and a daemon ends a build by killing every
  // process of its build user: all of them must take users from one pool, the host's
  // /var/guix/userpool (lock files), bound into each private /var/guix (hence --rbind).
  mkdirSync(join(dir, 'var', 'userpool'));
  mkdirSync(USERPOOL, { recursive: true });
  const binds = [
    ['--bind', join(dir, 'store'), GUIX_STORE_DIR],
    ['--bind', USERPOOL, join(dir, 'var', 'userpool')],
    ['--rbind', join(dir, 'var'), '/var/guix'],
    ['--bind', join(dir, 'log'), '/var/log/guix'],
  ];
  const mounts = binds.map(([how, from, to]) => `mount ${how!} ${shellQuote(from!)} ${shellQuote(to!)}`);
  const script = privateStore ? [...mounts, exec].join(' && ') : exec;
  const log = openSync(logFile, 'a');
  // detached: the daemon leads a new session and process group, which stop() kills whole.
  const [command, ...args] = privateStore
    ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script]
    : ['sh', '-c', script];
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, GUIX: join(base, 'scheme', 'bin', 'guix') },
  });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  let namespace: string | undefined;
  if (pid !== undefined) running.add(pid);
  const cleanup = async (): Promise<void> => {
    if (pid !== undefined)
      await killGroup(pid, exited, () => child.exitCode !== null || child.signalCode !== null);
    if (pid !== undefined) running.delete(pid);
    // Each connection's worker leads a session of its own; in a private namespace they are found by it.
    if (namespace !== undefined) await killNamespace(namespace);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 500 && !existsSync(socketPath) && child.exitCode === null; i++)
    await new Promise((r) => setTimeout(r, 20));
  if (privateStore && pid !== undefined) namespace = mountNamespaceOf(pid);
  if (pid === undefined || !existsSync(socketPath)) {
    const text = readLog(logFile);
    await cleanup();
    throw new Error(`guix-daemon ${options.version} did not create its socket; its log: ${text}`);
  }
  return {
    version: options.version,
    socket: `unix://${socketPath}`,
    storeDir: GUIX_STORE_DIR,
    storeOnDisk,
    logFile,
    pid,
    dir,
    stop: cleanup,
  };
}

function readLog(file: string): string {
  try {
    return execFileSync('tail', ['-c', '2000', file]).toString('utf8');
  } catch {
    return '(no log)';
  }
}
