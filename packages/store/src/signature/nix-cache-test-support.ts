// Test support for the narinfo/signature oracle tests (not exported): builds
// a small store item with a reference using the real nix tools, and runs them.
import { randomUUID } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Environment for the nix tools: the test daemon. */
export function nixEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NIX_REMOTE: process.env.NIX_REMOTE ?? 'daemon' };
}

/** Runs a nix tool; returns stdout (trimmed); throws with its stderr when it fails. */
export function nix(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { env: nixEnv(), encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs a nix tool that is expected to fail; returns its exit status and stderr. */
export function nixFails(cmd: string, args: readonly string[]): { status: number | null; stderr: string } {
  const r = spawnSync(cmd, args, { env: nixEnv(), encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

/** `nix-store --dump PATH` as bytes. */
export function nixDump(path: string): Buffer {
  return execFileSync('nix-store', ['--dump', path], { env: nixEnv(), maxBuffer: 1 << 28 });
}

/** A fresh temporary directory; `remove()` deletes it. */
export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Store items built for one test run: `top` references `dep`; names carry a fresh nonce. */
export interface BuiltItems {
  readonly dep: string;
  readonly top: string;
  readonly topDrv: string;
}

/**
 * Instantiates and builds two derivations (builder /bin/sh) where `top`'s
 * output references `dep`'s. A per-run nonce makes the outputs new, so a test
 * may delete `top` from the store and substitute it back.
 */
export function buildItems(dir: string): BuiltItems {
  const nonce = randomUUID();
  const expr = `
let dep = derivation { name = "gbc-sig-dep"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "echo dep-${nonce} > $out" ]; PATH = "/usr/bin:/bin"; };
in derivation { name = "gbc-sig-top"; system = builtins.currentSystem; builder = "/bin/sh";
  args = [ "-c" "mkdir $out; echo \${dep} > $out/ref; echo ${nonce} > $out/nonce; ln -s ref $out/link" ];
  PATH = "/usr/bin:/bin"; }
`;
  const file = join(dir, 'items.nix');
  writeFileSync(file, expr);
  const topDrv = nix('nix-instantiate', [file]);
  const top = nix('nix-store', ['-r', topDrv]);
  const dep = nix('nix-store', ['-q', '--references', top]);
  return { dep, top, topDrv };
}
