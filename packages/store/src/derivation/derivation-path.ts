// A derivation's own store path: a text path named `<name>.drv` whose
// references are its input sources and input derivations.
import { StoreError, quote } from '../errors.js';
import { makeTextPath, parseStorePath, validateStorePathName } from '../store-path/index.js';
import { DerivationError } from './errors.js';
import type { Derivation } from './types.js';
import { writeDerivation } from './write.js';

/**
 * The derivation's name, read from its `.drv` path under `storeDir`
 * (`/gnu/store/…-hello-2.12.drv` → `hello-2.12`). Throws DerivationError `drv-name`.
 */
export function derivationNameFromPath(drvPath: string, storeDir: string): string {
  try {
    const { name } = parseStorePath(drvPath, storeDir);
    if (name.endsWith('.drv')) return validateStorePathName(name.slice(0, -4));
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    throw new DerivationError('drv-name', `not a derivation path: ${error.message}`, {
      found: quote(drvPath),
      cause: error,
    });
  }
  throw new DerivationError('drv-name', 'a derivation path must end in .drv', { found: quote(drvPath) });
}

/** The store paths a derivation's file refers to: its input sources and input derivations. */
export function derivationReferences(drv: Derivation): string[] {
  return [...new Set([...drv.inputSrcs, ...drv.inputDrvs.keys()])];
}

/**
 * Computes the `.drv` path of `drv` named `name` under `storeDir`. Pass the
 * original bytes as `bytes` to skip re-writing them.
 */
export function computeDerivationPath(
  drv: Derivation,
  name: string,
  storeDir: string,
  bytes?: Uint8Array,
): string {
  try {
    return makeTextPath(storeDir, `${name}.drv`, bytes ?? writeDerivation(drv), derivationReferences(drv));
  } catch (error) {
    if (!(error instanceof StoreError) || error instanceof DerivationError) throw error;
    throw new DerivationError('drv-path', `cannot compute the derivation path: ${error.message}`, {
      cause: error,
    });
  }
}
