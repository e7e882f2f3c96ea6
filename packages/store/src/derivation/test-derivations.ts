// Test support (not exported by the package): builds well-formed derivations
// in memory, with correct output paths, for tests that need many of them.
import { computeDerivationPath } from './derivation-path.js';
import { hashDerivationModulo } from './hash-modulo.js';
import { fillOutputPaths } from './output-paths.js';
import type { Derivation } from './types.js';
import { writeDerivation } from './write.js';

/** A derivation made in memory: its path, bytes, parsed form and modulo hash. */
export interface MadeDerivation {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly derivation: Derivation;
  readonly hashModulo: Uint8Array;
}

/**
 * Makes an input-addressed derivation `name` with outputs `outputs` that
 * depends on `inputs` (their `out` output), under `storeDir`.
 */
export function makeDerivation(
  storeDir: string,
  name: string,
  inputs: readonly MadeDerivation[] = [],
  outputs: readonly string[] = ['out'],
  env: ReadonlyMap<string, string> = new Map(),
): MadeDerivation {
  const draft: Derivation = {
    outputs: new Map(outputs.map((o) => [o, { path: '', hashAlgo: '', hash: '' }])),
    inputDrvs: new Map(inputs.map((i) => [i.path, ['out']])),
    inputSrcs: [],
    system: 'x86_64-linux',
    builder: '/bin/sh',
    args: ['-c', `echo ${name} > $out`],
    env: new Map([...env, ['name', name], ['builder', '/bin/sh'], ['system', 'x86_64-linux']]),
  };
  const inputHashes = new Map(inputs.map((i) => [i.path, i.hashModulo]));
  const derivation = fillOutputPaths(draft, { storeDir, name, inputHashes });
  const bytes = writeDerivation(derivation);
  const path = computeDerivationPath(derivation, name, storeDir, bytes);
  const hashModulo = hashDerivationModulo(derivation, { storeDir, name, inputHashes });
  return { path, bytes, derivation, hashModulo };
}
