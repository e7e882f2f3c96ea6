// Real outputs for upload tests: a derivation instantiated with nix-instantiate,
// built by the nix-daemon (nix-store -r), and its NAR as `nix-store --dump`
// writes it, with the hash, size and references the daemon reports.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** A built output and its NAR. */
export interface BuiltOutput {
  readonly drv: string;
  readonly out: string;
  readonly nar: Uint8Array;
  /** `sha256:<nix32>` as `nix-store -q --hash` prints it. */
  readonly narHash: string;
  readonly narSize: number;
  /** Basenames of the output's references. */
  readonly references: string[];
}

const env = { ...process.env, NIX_REMOTE: 'daemon' };
const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trim();

/**
 * Instantiates and builds `derivation { name; builder = /bin/sh; args = [-c script]; }`
 * (PATH=/usr/bin:/bin; `nonce` makes the paths fresh), then dumps the output.
 */
export function buildNixOutput(name: string, script: string, nonce: string): BuiltOutput {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-e2e-nix-'));
  try {
    const file = join(dir, 'expr.nix');
    writeFileSync(
      file,
      `derivation { name = ${JSON.stringify(name)}; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; nonce = ${JSON.stringify(nonce)}; args = [ "-c" ${JSON.stringify(script)} ]; }\n`,
    );
    const drv = run('nix-instantiate', [file]);
    const out = run('nix-store', ['-r', drv]);
    const nar = new Uint8Array(execFileSync('nix-store', ['--dump', out], { env, maxBuffer: 1 << 30 }));
    const narHash = run('nix-store', ['-q', '--hash', out]);
    const narSize = Number(run('nix-store', ['-q', '--size', out]));
    const references = run('nix-store', ['-q', '--references', out])
      .split('\n')
      .filter((l) => l !== '')
      .map((p) => basename(p));
    return { drv, out, nar, narHash, narSize, references };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
