// Tells input-addressed derivations from fixed-output ones; content-addressed
// (floating) and deferred derivations are experimental in Nix and refused.
import { parseHashAlgorithm, decodeBase16, makeHash, type Hash } from '../hash/index.js';
import { StoreError, quote } from '../errors.js';
import type { FixedOutputMethod } from '../store-path/index.js';
import { DerivationError } from './errors.js';
import type { Derivation } from './types.js';

/** What decides a derivation's output paths. */
export type DerivationKind =
  | { readonly type: 'input-addressed' }
  | {
      readonly type: 'fixed-output';
      readonly method: FixedOutputMethod;
      readonly hash: Hash;
      readonly hashAlgo: string;
    };

/**
 * Classifies a derivation: fixed-output when its only output is `out` with a
 * hash algorithm (`sha256` flat, `r:sha256` recursive) and a hex hash;
 * input-addressed when no output has either. Anything else throws
 * DerivationError `drv-unsupported`.
 */
export function derivationKind(drv: Derivation): DerivationKind {
  const outs = [...drv.outputs];
  if (outs.length === 0) unsupported('a derivation without outputs', '');
  if (outs.every(([, o]) => o.hashAlgo === '' && o.hash === '')) return { type: 'input-addressed' };
  const only = outs[0]!;
  const [name, output] = only;
  if (outs.length !== 1 || name !== 'out') unsupported('hashes on outputs other than a single "out"', name);
  if (output.hash === '')
    unsupported('a floating content-addressed output (hash algorithm without a hash)', output.hashAlgo);
  const recursive = output.hashAlgo.startsWith('r:');
  const algoName = recursive ? output.hashAlgo.slice(2) : output.hashAlgo;
  try {
    const algorithm = parseHashAlgorithm(algoName);
    const hash = makeHash(algorithm, decodeBase16(output.hash));
    return {
      type: 'fixed-output',
      method: recursive ? 'recursive' : 'flat',
      hash,
      hashAlgo: output.hashAlgo,
    };
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    throw new DerivationError('drv-unsupported', `fixed output has an unusable hash: ${error.message}`, {
      field: 'outputs out',
      expected: '[r:]md5|sha1|sha256|sha512 and the hex digest of that size',
      found: quote(`${output.hashAlgo}:${output.hash}`),
      cause: error,
    });
  }
}

function unsupported(what: string, found: string): never {
  throw new DerivationError('drv-unsupported', `unsupported derivation: ${what}`, {
    field: 'outputs',
    expected: 'input-addressed outputs, or one fixed "out" output',
    found: quote(found),
  });
}
