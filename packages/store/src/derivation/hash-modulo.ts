// Nix's "hash derivation modulo": a derivation hash that does not change
// when only the way a fixed output is produced changes. Output paths of
// input-addressed derivations are made from it.
import { encodeBase16, sha256 } from '../hash/index.js';
import { makeFixedOutputPath } from '../store-path/index.js';
import { derivationKind } from './derivation-kind.js';
import { DerivationError } from './errors.js';
import type { Derivation, DerivationOutput } from './types.js';
import { writeDerivation } from './write.js';

/** Modulo hashes (sha256 digests) of input derivations, by `.drv` path: a map or a lookup function. */
export type InputHashes = ReadonlyMap<string, Uint8Array> | ((drvPath: string) => Uint8Array | undefined);

/** What hashDerivationModulo needs besides the derivation. */
export interface HashModuloOptions {
  /** Store directory, e.g. `/gnu/store`. */
  readonly storeDir: string;
  /** The derivation's name (its `.drv` basename without hash and `.drv`). */
  readonly name: string;
  /** Modulo hashes of every input derivation (each computed with maskOutputs false). */
  readonly inputHashes: InputHashes;
  /** Blank output paths and the env variables named after outputs (used to compute output paths). Default false. */
  readonly maskOutputs?: boolean;
}

/**
 * Computes the modulo hash (32-byte sha256 digest). Fixed-output: sha256 of
 * `fixed:out:<[r:]algo>:<hex>:<output path>`. Input-addressed: sha256 of the
 * derivation text with every input derivation path replaced by the hex of
 * its modulo hash (re-sorted), and with outputs masked when asked.
 * Throws DerivationError `drv-input-missing` when an input's hash is unknown.
 */
export function hashDerivationModulo(drv: Derivation, options: HashModuloOptions): Uint8Array {
  const kind = derivationKind(drv);
  if (kind.type === 'fixed-output') {
    const path = makeFixedOutputPath(options.storeDir, options.name, kind.method, kind.hash);
    const algo = `${kind.method === 'recursive' ? 'r:' : ''}${kind.hash.algorithm}`;
    return sha256(`fixed:out:${algo}:${encodeBase16(kind.hash.digest)}:${path}`);
  }
  const lookup = options.inputHashes;
  const inputDrvs = new Map<string, string[]>();
  for (const [path, names] of drv.inputDrvs) {
    const hash = typeof lookup === 'function' ? lookup(path) : lookup.get(path);
    if (hash === undefined) {
      throw new DerivationError('drv-input-missing', 'the modulo hash of an input derivation is unknown', {
        field: path,
        expected: 'the input derivation loaded and hashed first',
      });
    }
    const hex = encodeBase16(hash);
    // Two fixed-output inputs with the same fixed hash share one entry.
    inputDrvs.set(hex, [...(inputDrvs.get(hex) ?? []), ...names]);
  }
  const mask = options.maskOutputs === true;
  const outputs = new Map<string, DerivationOutput>();
  for (const [name, output] of drv.outputs) outputs.set(name, mask ? { ...output, path: '' } : output);
  const env = new Map<string, string>();
  for (const [key, value] of drv.env) env.set(key, mask && drv.outputs.has(key) ? '' : value);
  return sha256(writeDerivation({ ...drv, outputs, inputDrvs, env }));
}
