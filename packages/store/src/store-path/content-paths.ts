// Paths of text files (derivations), sources (NAR-hashed), fixed outputs and
// derivation outputs, each a store path of a particular type.
import { hashBytes, makeHash, sha256, encodeBase16, type Hash } from '../hash/index.js';
import { StorePathError } from './errors.js';
import { makeStorePath, referencesType } from './make-store-path.js';

/** How a fixed output is hashed: the file's bytes (`flat`) or its NAR (`recursive`). */
export type FixedOutputMethod = 'flat' | 'recursive';

/** Path of a text file (as `builtins.toFile` or a `.drv` makes): type `text(:ref)*`, inner hash sha256 of the contents. */
export function makeTextPath(
  storeDir: string,
  name: string,
  contents: Uint8Array | string,
  references: Iterable<string> = [],
): string {
  const type = referencesType(storeDir, 'text', references);
  return makeStorePath(storeDir, type, makeHash('sha256', sha256(contents)), name);
}

/** Path of a source added by NAR hash (sha256): type `source(:ref)*(:self)?`. */
export function makeSourcePath(
  storeDir: string,
  name: string,
  narHash: Hash,
  references: Iterable<string> = [],
  selfReference = false,
): string {
  if (narHash.algorithm !== 'sha256') {
    throw new StorePathError('store-path-source-hash', 'a source path needs a sha256 NAR hash', {
      expected: 'sha256',
      found: narHash.algorithm,
    });
  }
  return makeStorePath(
    storeDir,
    referencesType(storeDir, 'source', references, selfReference),
    narHash,
    name,
  );
}

/**
 * Path of a fixed output. Recursive sha256 is a source path; any other case
 * is `output:out` over sha256 of `fixed:out:[r:]<algo>:<hex>:`, and allows
 * no references.
 */
export function makeFixedOutputPath(
  storeDir: string,
  name: string,
  method: FixedOutputMethod,
  hash: Hash,
  references: Iterable<string> = [],
  selfReference = false,
): string {
  if (method === 'recursive' && hash.algorithm === 'sha256') {
    return makeSourcePath(storeDir, name, hash, references, selfReference);
  }
  if ([...references].length > 0 || selfReference) {
    throw new StorePathError(
      'store-path-fixed-references',
      'a flat or non-sha256 fixed output cannot have references',
    );
  }
  const prefix = method === 'recursive' ? 'r:' : '';
  const inner = hashBytes(`fixed:out:${prefix}${hash.algorithm}:${encodeBase16(hash.digest)}:`);
  return makeStorePath(storeDir, 'output:out', makeHash('sha256', inner), name);
}

/** Name of an output's path: the derivation's name, plus `-<output>` unless the output is `out`. */
export function outputPathName(drvName: string, outputName: string): string {
  return outputName === 'out' ? drvName : `${drvName}-${outputName}`;
}

/** Path of an input-addressed output: type `output:<name>`, inner hash the derivation's modulo hash (sha256). */
export function makeOutputPath(
  storeDir: string,
  drvName: string,
  outputName: string,
  hashModulo: Uint8Array,
): string {
  const inner = makeHash('sha256', hashModulo);
  return makeStorePath(storeDir, `output:${outputName}`, inner, outputPathName(drvName, outputName));
}
