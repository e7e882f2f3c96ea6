// Output paths of a derivation, input-addressed or fixed-output, and a
// helper that fills them into a derivation being built from scratch.
import { makeFixedOutputPath, makeOutputPath } from '../store-path/index.js';
import { derivationKind } from './derivation-kind.js';
import { hashDerivationModulo, type HashModuloOptions } from './hash-modulo.js';
import type { Derivation, DerivationOutput } from './types.js';

/** Options of computeOutputPaths: hashDerivationModulo's, without the mask (always on). */
export type OutputPathOptions = Omit<HashModuloOptions, 'maskOutputs'>;

/**
 * Computes every output's path (output name → path). Fixed-output: the
 * fixed path of its hash. Input-addressed: `output:<name>` paths over the
 * masked modulo hash, named `<name>` for `out` and `<name>-<output>` otherwise.
 */
export function computeOutputPaths(drv: Derivation, options: OutputPathOptions): Map<string, string> {
  const kind = derivationKind(drv);
  if (kind.type === 'fixed-output') {
    return new Map([['out', makeFixedOutputPath(options.storeDir, options.name, kind.method, kind.hash)]]);
  }
  const hash = hashDerivationModulo(drv, { ...options, maskOutputs: true });
  const paths = new Map<string, string>();
  for (const name of drv.outputs.keys())
    paths.set(name, makeOutputPath(options.storeDir, options.name, name, hash));
  return paths;
}

/**
 * Returns `drv` with each output's path and the env variable of the same
 * name set to the computed path, as nix-instantiate does. Output paths and
 * env entries given in `drv` are ignored.
 */
export function fillOutputPaths(drv: Derivation, options: OutputPathOptions): Derivation {
  const blankOutputs = new Map<string, DerivationOutput>();
  for (const [name, output] of drv.outputs) blankOutputs.set(name, { ...output, path: '' });
  const blankEnv = new Map(drv.env);
  for (const name of drv.outputs.keys()) blankEnv.set(name, '');
  const paths = computeOutputPaths({ ...drv, outputs: blankOutputs, env: blankEnv }, options);
  const outputs = new Map<string, DerivationOutput>();
  const env = new Map(drv.env);
  for (const [name, output] of drv.outputs) {
    const path = paths.get(name)!;
    outputs.set(name, { ...output, path });
    env.set(name, path);
  }
  return { ...drv, outputs, env };
}
