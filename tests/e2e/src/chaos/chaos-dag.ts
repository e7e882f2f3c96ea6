// The chaos run's derivation graph, drawn from the seed: `layers` layers of
// `width` derivations with /bin/sh builders that sleep 1–3 s (long enough
// for the chaos to find agents holding builds), then write
// their name, the content of each input and each input's path (so an output
// depends on its inputs' bytes and refers to them). Instantiated into the
// host daemon's /nix/store with nix-instantiate.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Prng } from './prng.js';

/** One derivation of the graph, before instantiation. */
export interface DagNode {
  /** Attribute name, `c<layer>_<index>`. */
  readonly name: string;
  readonly layer: number;
  /** Attribute names of its inputs (earlier layers). */
  readonly inputs: readonly string[];
  /** Seconds its builder sleeps, as written in the script (e.g. `0.4`). */
  readonly sleep: string;
}

/** An instantiated graph. */
export interface ChaosDag {
  readonly nodes: readonly DagNode[];
  /** Attribute name → `.drv` path, in the order of `nodes`. */
  readonly drvs: ReadonlyMap<string, string>;
}

/** Draws the graph: each node past the first layer has 1–3 inputs from the layer below and sometimes one from further down. */
export function drawDag(prng: Prng, layers: number, width: number): DagNode[] {
  const nodes: DagNode[] = [];
  const names = (layer: number): string[] => Array.from({ length: width }, (_, i) => `c${layer}_${i}`);
  for (let layer = 0; layer < layers; layer++) {
    for (const name of names(layer)) {
      const inputs = layer === 0 ? [] : prng.sample(names(layer - 1), prng.int(1, 3));
      if (layer >= 2 && prng.next() < 0.3) inputs.push(prng.pick(names(prng.int(0, layer - 2))));
      nodes.push({ name, layer, inputs, sleep: (prng.int(10, 30) / 10).toFixed(1) });
    }
  }
  return nodes;
}

/** Writes the graph's Nix expression into `dir` (with `marker` making every path fresh) and instantiates every node. */
export function instantiateDag(dir: string, nodes: readonly DagNode[], marker: string): ChaosDag {
  const attrs = nodes.map((n) => {
    const steps = n.inputs.map((i) => `cat \${${i}} >> $out; echo \${${i}} >> $out;`).join(' ');
    return `  ${n.name} = mk "chaos-${n.name.replace('_', '-')}" "sleep ${n.sleep}; echo ${n.name} $MARKER > $out; ${steps}";`;
  });
  const file = join(dir, 'chaos.nix');
  writeFileSync(
    file,
    [
      'let',
      `  mk = name: script: derivation { inherit name; system = builtins.currentSystem; builder = "/bin/sh";`,
      `    PATH = "/usr/bin:/bin"; MARKER = ${JSON.stringify(marker)}; args = [ "-c" script ]; };`,
      'in rec {',
      ...attrs,
      '}',
      '',
    ].join('\n'),
  );
  const out = execFileSync('nix-instantiate', [file, ...nodes.flatMap((n) => ['-A', n.name])], {
    encoding: 'utf8',
    env: { ...process.env, NIX_REMOTE: 'daemon' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const paths = out.trim().split('\n');
  if (paths.length !== nodes.length)
    throw new Error(`nix-instantiate printed ${paths.length} paths for ${nodes.length} attributes: ${out}`);
  return { nodes, drvs: new Map(nodes.map((n, i) => [n.name, paths[i]!])) };
}
