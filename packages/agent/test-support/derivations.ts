// Test support (not exported): derivations instantiated with nix-instantiate
// in the machine's main store, and their submission to a coordinator the way
// `gbc submit-build` does it (derivation texts, input sources as NARs, build).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorClient } from '@gbc/protocol';
import { encodeDerivationText } from '@gbc/protocol';
import { formatNarHash, hashNar, parseDerivation, storePathBasename } from '@gbc/store';

const env = { ...process.env, NIX_REMOTE: 'daemon' };

/** A store other than the machine's /nix/store, e.g. Guix's: `local?store=/gnu/store&root=R`, whose files live in R/nix/store (Nix's real-store default). */
export interface OtherStore {
  readonly uri: string;
  readonly root: string;
}

/** Instantiates each attribute of `expr` (a Nix attribute set) in the main store or `store`; returns attribute → .drv path. */
export function instantiate(
  expr: string,
  attrs: readonly string[],
  store?: OtherStore,
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'gbc-agent-nix-'));
  try {
    const file = join(dir, 'expr.nix');
    writeFileSync(file, expr);
    const out: Record<string, string> = {};
    const storeArgs = store === undefined ? [] : ['--store', store.uri];
    for (const a of attrs)
      out[a] = execFileSync('nix-instantiate', [...storeArgs, file, '-A', a], {
        encoding: 'utf8',
        env: store === undefined ? env : { ...process.env, NIX_REMOTE: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A `derivation` helper for test expressions: /bin/sh builders with PATH set and a nonce. */
export function mkPrelude(nonce: string): string {
  return `mk = attrs: derivation ({ system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin"; nonce = "${nonce}"; } // attrs);`;
}

/** Uploads the closure of `drv` (texts, dependencies first; input sources as NARs) and submits a build of each of `builds`. */
export async function submit(
  client: CoordinatorClient,
  drv: string,
  options: {
    skipSources?: boolean;
    priority?: number;
    maxSilentTimeSeconds?: number;
    timeoutSeconds?: number;
    store?: OtherStore;
  } = {},
): Promise<string> {
  const read = (p: string): Uint8Array =>
    new Uint8Array(
      readFileSync(
        options.store === undefined ? p : join(options.store.root, 'nix/store', storePathBasename(p)),
      ),
    );
  const order: string[] = [];
  const seen = new Set<string>();
  const sources = new Set<string>();
  const visit = (p: string): void => {
    if (seen.has(p)) return;
    seen.add(p);
    const d = parseDerivation(read(p));
    for (const s of d.inputSrcs) sources.add(s);
    for (const i of d.inputDrvs.keys()) visit(i);
    order.push(p);
  };
  visit(drv);
  if (options.skipSources !== true) {
    for (const s of sources) {
      const real =
        options.store === undefined ? s : join(options.store.root, 'nix/store', storePathBasename(s));
      const nar = new Uint8Array(execFileSync('nix-store', ['--dump', real], { env, maxBuffer: 1 << 26 }));
      const narHash = formatNarHash((await hashNar([nar])).narHash);
      await client.putSource(storePathBasename(s), { narHash, narSize: nar.byteLength, references: [] }, nar);
    }
  }
  await client.uploadDerivations(order.map((p) => ({ path: p, text: encodeDerivationText(read(p)) })));
  const res = await client.submitBuild({
    derivation: drv,
    priority: options.priority ?? 0,
    maxSilentTimeSeconds: options.maxSilentTimeSeconds,
    timeoutSeconds: options.timeoutSeconds,
  });
  return res.uuid;
}
