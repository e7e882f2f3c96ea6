// Test support (not exported): a nix-daemon with a store of its own, standing
// for another build machine, as ENVIRONMENT.md describes. Output goes to a file.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuildDaemon } from '@gbc/store';

/** A running private daemon. */
export interface PrivateDaemon {
  readonly dir: string;
  /** `unix://…` */
  readonly socket: string;
  /** Where its store lives on disk (`<root>/nix/store/…`). */
  readonly root: string;
  /** Lets builders waiting on `/gbc-gate/<name>` (default `open`) finish. */
  openGate(name?: string): void;
  stop(): Promise<void>;
}

/**
 * Starts `nix-daemon --store local?root=…` on its own socket and waits until
 * it answers. Builders see `<dir>/gate` as `/gbc-gate`: a test opens the gate
 * (creates `<dir>/gate/open`) to let a waiting builder finish. `extraArgs`
 * go to nix-daemon as they are (e.g. `--option trusted-users nobody`).
 */
export async function startPrivateDaemon(
  storeDir = '/nix/store',
  extraArgs: readonly string[] = [],
): Promise<PrivateDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-daemon-'));
  mkdirSync(join(dir, 'gate'));
  const socketPath = join(dir, 'socket');
  const root = join(dir, 'root');
  const out = openSync(join(dir, 'daemon.log'), 'a');
  const child: ChildProcess = spawn(
    'nix-daemon',
    [
      '--store',
      storeDir === '/nix/store' ? `local?root=${root}` : `local?store=${storeDir}&root=${root}`,
      '--option',
      'sandbox',
      'true',
      '--option',
      'sandbox-paths',
      `/bin=/usr/bin /usr /lib=/usr/lib /lib64=/usr/lib64 /gbc-gate=${join(dir, 'gate')}`,
      ...extraArgs,
    ],
    {
      env: { ...process.env, NIX_DAEMON_SOCKET_PATH: socketPath },
      stdio: ['ignore', out, out],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const socket = `unix://${socketPath}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`nix-daemon exited early (${child.exitCode}); see ${dir}/daemon.log`);
    if (existsSync(socketPath)) {
      const d = createBuildDaemon({ socket, storeDir });
      try {
        await d.info();
        break;
      } catch {
        // not accepting yet
      } finally {
        await d.close();
      }
    }
    if (i > 400) throw new Error(`nix-daemon did not answer on ${socketPath}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    dir,
    socket,
    root,
    openGate: (name = 'open') => writeFileSync(join(dir, 'gate', name), 'open\n'),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
