// A nix-daemon with a store of its own on its own socket, standing for a
// build machine (ENVIRONMENT.md): `local?root=R` for /nix/store, or
// `local?store=/gnu/store&root=R` for Guix's store directory. Sandboxed, as a
// store under another root requires; output to a file.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { createBuildDaemon } from '@gbc/store';

/** Paths the sandbox exposes to /bin/sh builders. */
export const SANDBOX_PATHS = '/bin=/usr/bin /usr /lib=/usr/lib /lib64=/usr/lib64';

/** The `--store` URI of a local store under `root` with store directory `storeDir`. */
export function localStoreUri(storeDir: string, root: string): string {
  return storeDir === '/nix/store' ? `local?root=${root}` : `local?store=${storeDir}&root=${root}`;
}

/** A running private daemon. */
export interface NixDaemonProcess {
  /** `unix://…`, for `gbc agent --daemon-socket`. */
  readonly socket: string;
  /** Its store's root; Nix 2.8 keeps the files in `<root>/nix/store` whatever the store directory. */
  readonly root: string;
  readonly logFile: string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Starts a daemon in `dir` (socket, root and log under it) and waits until it answers the handshake. */
export async function startNixDaemon(dir: string, storeDir: string): Promise<NixDaemonProcess> {
  mkdirSync(dir, { recursive: true });
  const socketPath = join(dir, 'socket');
  const root = join(dir, 'root');
  const logFile = join(dir, 'daemon.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    'nix-daemon',
    [
      '--store',
      localStoreUri(storeDir, root),
      '--option',
      'sandbox',
      'true',
      '--option',
      'sandbox-paths',
      SANDBOX_PATHS,
    ],
    {
      env: { ...process.env, NIX_DAEMON_SOCKET_PATH: socketPath },
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const socket = `unix://${socketPath}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`nix-daemon exited early (${child.exitCode}); see ${logFile}`);
    if (existsSync(socketPath) && (await answers(socket, storeDir))) break;
    if (i > 800) throw new Error(`nix-daemon did not answer on ${socketPath} within 20 s; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    socket,
    root,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function answers(socket: string, storeDir: string): Promise<boolean> {
  const daemon = createBuildDaemon({ socket, storeDir });
  try {
    await daemon.info();
    return true;
  } catch {
    return false;
  } finally {
    await daemon.close();
  }
}
