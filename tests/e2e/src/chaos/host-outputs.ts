// What Nix itself makes of the chaos graph: every derivation realised by the
// host's nix-daemon, and each output's NarHash, NarSize and references as
// `nix-store -q` reports them — the reference the farm's outputs must equal.
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
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

async function nixStore(args: readonly string[]): Promise<string> {
  const { stdout } = await run('nix-store', [...args], { encoding: 'utf8', env: { ...process.env, NIX_REMOTE: 'daemon' }, maxBuffer: 64 << 20 });
  return stdout.trim();
}

/** Realises `drvs` (single-output derivations) on the host daemon; `.drv` path → its output. */
export async function realiseOnHost(drvs: readonly string[]): Promise<Map<string, HostOutput>> {
  await nixStore(['--realise', ...drvs]);
  const out = new Map<string, HostOutput>();
  for (const drv of drvs) {
    const path = await nixStore(['-q', '--outputs', drv]);
    const [narHash, narSize, references] = await Promise.all([
      nixStore(['-q', '--hash', path]), nixStore(['-q', '--size', path]), nixStore(['-q', '--references', path]),
    ]);
    out.set(drv, { path, narHash, narSize: Number(narSize), references: references.split('\n').filter((l) => l !== '').map((p) => basename(p)).sort() });
  }
  return out;
}
