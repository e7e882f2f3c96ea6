// The farm's derivation graph: 21 derivations with /bin/sh builders (six
// leaves, a fixed-output one, one with three outputs, eight middles, one
// reading an input source, one that fails and two that depend on it, and a
// top whose output refers to every other success), instantiated with
// nix-instantiate into the daemon's /nix/store or a `/gnu/store` local store.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localStoreUri } from '../support/nix-daemon-process.js';

/** The attribute names of the graph, in instantiation order. */
export const DAG_NAMES = [
  'leaf0',
  'leaf1',
  'leaf2',
  'leaf3',
  'leaf4',
  'leaf5',
  'fixed',
  'multi',
  'mid0',
  'mid1',
  'mid2',
  'mid3',
  'mid4',
  'mid5',
  'mid6',
  'mid7',
  'withSrc',
  'fail',
  'afterFail',
  'afterAfterFail',
  'top',
] as const;
/** One of {@link DAG_NAMES}. */
export type DagName = (typeof DAG_NAMES)[number];

/** Derivations whose builds must fail, stay blocked by that failure, or succeed. */
export const FAILING: readonly DagName[] = ['fail'];
export const BLOCKED: readonly DagName[] = ['afterFail', 'afterAfterFail'];
export const SUCCEEDING: readonly DagName[] = DAG_NAMES.filter(
  (n) => !FAILING.includes(n) && !BLOCKED.includes(n),
);

/** An instantiated graph. */
export interface FarmDag {
  readonly marker: string;
  /** Attribute name → `.drv` store path. */
  readonly drvs: ReadonlyMap<DagName, string>;
  /** Where the `.drv` files are on disk (for `gbc submit-build --real-store-dir`), or null when that is the store directory. */
  readonly realStoreDir: string | null;
}

/** Writes the expression into `dir` and instantiates it; `root` set means a local store `storeDir` under `root`. */
export function instantiateFarmDag(
  dir: string,
  marker: string,
  storeDir: string,
  root: string | null,
): FarmDag {
  const fixedText = `fixed ${marker}\n`;
  const fixedHash = createHash('sha256').update(fixedText).digest('hex');
  const file = join(dir, 'farm.nix');
  writeFileSync(
    file,
    `
let
  marker = "${marker}";
  mk = name: attrs: script: derivation ({ inherit name; system = builtins.currentSystem; builder = "/bin/sh";
    PATH = "/usr/bin:/bin"; MARKER = marker; args = [ "-c" script ]; } // attrs);
  leaf = i: mk "farm-leaf-\${toString i}" {} "echo building leaf \${toString i} $MARKER; echo leaf \${toString i} $MARKER > $out";
  src = builtins.toFile "farm-src" "source \${marker}\\n";
in rec {
  leaf0 = leaf 0; leaf1 = leaf 1; leaf2 = leaf 2; leaf3 = leaf 3; leaf4 = leaf 4; leaf5 = leaf 5;
  fixed = mk "farm-fixed" { outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "${fixedHash}"; }
    "echo fetching fixed; printf 'fixed %s\\\\n' $MARKER > $out";
  multi = mk "farm-multi" { outputs = [ "out" "dev" "doc" ]; }
    "echo building multi; echo out $MARKER > $out; echo dev > $dev; mkdir $doc; echo doc > $doc/README";
  mid = i: a: b: mk "farm-mid-\${toString i}" {} "echo building mid \${toString i}; cat \${a} \${b} \${fixed} \${multi.dev} > $out";
  mid0 = mid 0 leaf0 leaf1; mid1 = mid 1 leaf1 leaf2; mid2 = mid 2 leaf2 leaf3; mid3 = mid 3 leaf3 leaf4;
  mid4 = mid 4 leaf4 leaf5; mid5 = mid 5 leaf5 leaf0; mid6 = mid 6 mid0 mid3; mid7 = mid 7 mid1 multi;
  withSrc = mk "farm-with-src" {} "echo reading source; cat \${src} > $out";
  fail = mk "farm-fail" {} "echo failing on purpose $MARKER; exit 1";
  afterFail = mk "farm-after-fail" {} "cat \${fail} \${leaf0} > $out";
  afterAfterFail = mk "farm-after-after-fail" {} "cat \${afterFail} > $out";
  top = mk "farm-top" {} "echo building top $MARKER; echo \${mid2} \${mid4} \${mid5} \${mid6} \${mid7} \${withSrc} \${multi.doc} > $out";
}
`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  const storeArgs: string[] = [];
  if (root === null) env.NIX_REMOTE = 'daemon';
  else {
    delete env.NIX_REMOTE;
    storeArgs.push('--store', localStoreUri(storeDir, root));
  }
  const out = execFileSync('nix-instantiate', [...storeArgs, file, ...DAG_NAMES.flatMap((n) => ['-A', n])], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const paths = out.trim().split('\n');
  if (paths.length !== DAG_NAMES.length)
    throw new Error(
      `nix-instantiate printed ${paths.length} paths for ${DAG_NAMES.length} attributes: ${out}`,
    );
  return {
    marker,
    drvs: new Map(DAG_NAMES.map((n, i) => [n, paths[i]!])),
    realStoreDir: root === null ? null : join(root, 'nix/store'),
  };
}
