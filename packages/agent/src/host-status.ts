// What the agent reports about its machine: the 1-minute load average and the free disk space.
import { statfs } from 'node:fs/promises';
import { loadavg } from 'node:os';

/** The 1-minute load average. */
export function load1(): number {
  return loadavg()[0] ?? 0;
}

/** Free bytes on the file system holding `dir`, or undefined when it cannot be read. */
export async function freeDiskBytes(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return Math.min(Number.MAX_SAFE_INTEGER, s.bavail * s.bsize);
  } catch {
    return undefined;
  }
}
