// What Nix itself makes of the chaos graph: every derivation realised by the
// host's nix-daemon, and each output's NarHash, NarSize and references as
// `nix-store -q` reports them — the reference the farm's outputs must equal.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** An output as the host's Nix built it. */
export interface HostOutput {
  readonly path: string;
  /** `sha256:<nix32>`. */
  readonly narHash: string;
  readonly narSize: number;
  /** Basenames, sorted. */
  readonly references: readonly string[];
}

/**
 * `nix-store args…` through the host daemon, its output lines. Tried three
 * times: the daemon is shared with other test runs on the machine, and a
 * worker interrupted under us is not what this test is about.
 */
async function nixStore(args: readonly string[]): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await run('nix-store', [...args], {
        encoding: 'utf8',
        env: { ...process.env, NIX_REMOTE: 'daemon' },
        maxBuffer: 64 << 20,
      });
      return stdout.split('\n').filter((l) => l !== '');
    } catch (error) {
      if (attempt === 3) throw error;
      await sleep(1000);
    }
  }
}

/** Realises `drvs` (single-output derivations) on the host daemon; `.drv` path → its output. */
export async function realiseOnHost(drvs: readonly string[]): Promise<Map<string, HostOutput>> {
  await nixStore(['--realise', ...drvs]);
  const paths = await nixStore(['-q', '--outputs', ...drvs]);
  const [hashes, sizes] = await Promise.all([
    nixStore(['-q', '--hash', ...paths]),
    nixStore(['-q', '--size', ...paths]),
  ]);
  if (paths.length !== drvs.length || hashes.length !== drvs.length || sizes.length !== drvs.length) {
    throw new Error(
      `nix-store -q answered ${paths.length} outputs, ${hashes.length} hashes, ${sizes.length} sizes for ${drvs.length} derivations`,
    );
  }
  const out = new Map<string, HostOutput>();
  for (const [i, drv] of drvs.entries()) {
    const references = (await nixStore(['-q', '--references', paths[i]!])).map((p) => basename(p)).sort();
    out.set(drv, { path: paths[i]!, narHash: hashes[i]!, narSize: Number(sizes[i]), references });
  }
  return out;
}
