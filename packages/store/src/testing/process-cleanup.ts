// Test support: ending what a test daemon started — its process group, and
// the processes left in its private mount namespace (connection workers,
// which lead sessions of their own).
import { readdirSync, readlinkSync } from 'node:fs';

/** Whether any process of group `pgid` is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, SIGKILL after a bounded wait; resolves when the leader and the group are gone. */
export async function killGroup(
  pgid: number,
  exited: Promise<void>,
  leaderGone: () => boolean,
): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 250 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 20));
  if (groupAlive(pgid)) signal('SIGKILL');
  for (let i = 0; i < 250 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 20));
  if (!leaderGone()) await exited;
}

/** The mount namespace of a process (`mnt:[4026…]`), or undefined when it is gone. */
export function mountNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Processes in mount namespace `namespace`. */
function processesIn(namespace: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (/^\d+$/.test(entry) && mountNamespaceOf(Number(entry)) === namespace) pids.push(Number(entry));
  }
  return pids;
}

/** Ends every process left in a test daemon's own namespace (its connection workers): SIGTERM, then SIGKILL. */
export async function killNamespace(namespace: string): Promise<void> {
  if (namespace === mountNamespaceOf(process.pid)) return;
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    for (const pid of processesIn(namespace)) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
    for (let i = 0; i < 250 && processesIn(namespace).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
  }
}
