// Whether a (path, bytes) pair is a consistent derivation: the path is the
// text's own path, every output path is the one the text implies, and each
// output's env variable holds its path. The coordinator refuses the rest.
import { StoreError, quote } from '../errors.js';
import { derivationNameFromPath, computeDerivationPath } from './derivation-path.js';
import { DerivationError } from './errors.js';
import { hashDerivationModulo, type InputHashes } from './hash-modulo.js';
import { computeOutputPaths } from './output-paths.js';
import { parseDerivation } from './parse.js';
import type { Derivation } from './types.js';

/** What checkDerivation needs: the store directory and the modulo hashes of the input derivations. */
export interface CheckDerivationOptions {
  readonly storeDir: string;
  readonly inputHashes: InputHashes;
}

/** A derivation found consistent, with its name and modulo hash (what its dependents need). */
export interface VerifiedDerivation {
  readonly path: string;
  readonly name: string;
  readonly derivation: Derivation;
  /** hashDerivationModulo without masking: the value dependents look up. */
  readonly hashModulo: Uint8Array;
}

/** The outcome of checkDerivation: the verified derivation, or every problem found. */
export type DerivationCheck =
  | ({ readonly ok: true } & VerifiedDerivation)
  | { readonly ok: false; readonly errors: readonly DerivationError[]; readonly derivation?: Derivation };

/** Checks a derivation's path against its bytes and its output paths against its text; never throws a StoreError. */
export function checkDerivation(
  drvPath: string,
  bytes: Uint8Array,
  options: CheckDerivationOptions,
): DerivationCheck {
  const { storeDir } = options;
  let name: string;
  let derivation: Derivation;
  try {
    name = derivationNameFromPath(drvPath, storeDir);
    derivation = parseDerivation(bytes);
  } catch (error) {
    return { ok: false, errors: [asDerivationError(error, drvPath)] };
  }
  const errors: DerivationError[] = [];
  const attempt = (step: () => void): void => {
    try {
      step();
    } catch (error) {
      errors.push(asDerivationError(error, drvPath));
    }
  };
  attempt(() => {
    for (const input of derivation.inputDrvs.keys()) derivationNameFromPath(input, storeDir);
    const expected = computeDerivationPath(derivation, name, storeDir, bytes);
    if (expected !== drvPath) {
      throw new DerivationError('drv-path', 'the derivation path does not match its text and references', {
        field: drvPath,
        expected: expected,
        found: drvPath,
      });
    }
  });
  let hashModulo: Uint8Array | undefined;
  attempt(() => {
    const paths = computeOutputPaths(derivation, { storeDir, name, inputHashes: options.inputHashes });
    for (const [output, { path }] of derivation.outputs) {
      const expected = paths.get(output)!;
      if (path !== expected) {
        errors.push(
          new DerivationError('drv-output-path', 'wrong output path', {
            field: `${drvPath} output ${output}`,
            expected,
            found: quote(path),
          }),
        );
      }
      const env = derivation.env.get(output);
      if (env !== expected) {
        errors.push(
          new DerivationError(
            'drv-output-env',
            'the environment variable of an output does not hold its path',
            {
              field: `${drvPath} env ${output}`,
              expected,
              found: env === undefined ? 'no such variable' : quote(env),
            },
          ),
        );
      }
    }
    hashModulo = hashDerivationModulo(derivation, { storeDir, name, inputHashes: options.inputHashes });
  });
  if (errors.length > 0 || hashModulo === undefined) return { ok: false, errors, derivation };
  return { ok: true, path: drvPath, name, derivation, hashModulo };
}

/** Like checkDerivation, but throws the first problem as a DerivationError. */
export function verifyDerivation(
  drvPath: string,
  bytes: Uint8Array,
  options: CheckDerivationOptions,
): VerifiedDerivation {
  const result = checkDerivation(drvPath, bytes, options);
  if (!result.ok) throw result.errors[0]!;
  const { ok: _ok, ...verified } = result;
  return verified;
}

function asDerivationError(error: unknown, drvPath: string): DerivationError {
  if (error instanceof DerivationError) return error;
  if (error instanceof StoreError) {
    return new DerivationError(error.code, error.message, { field: drvPath, cause: error });
  }
  throw error;
}
