// Public surface of derivations: parse, write, paths, hashes, checks, closures.
export {
  byteStringToBytes,
  byteStringToUtf8,
  bytesToByteString,
  isByteString,
  utf8ToByteString,
} from './byte-string.js';
export {
  checkDerivation,
  verifyDerivation,
  type CheckDerivationOptions,
  type DerivationCheck,
  type VerifiedDerivation,
} from './check.js';
export {
  hashDerivationClosure,
  loadDerivationClosure,
  topologicalOrder,
  type ClosureOptions,
  type DerivationClosure,
  type DerivationLoader,
} from './closure.js';
export { derivationKind, type DerivationKind } from './derivation-kind.js';
export { computeDerivationPath, derivationNameFromPath, derivationReferences } from './derivation-path.js';
export { DerivationError } from './errors.js';
export { hashDerivationModulo, type HashModuloOptions, type InputHashes } from './hash-modulo.js';
export { computeOutputPaths, fillOutputPaths, type OutputPathOptions } from './output-paths.js';
export { parseDerivation } from './parse.js';
export type { Derivation, DerivationOutput } from './types.js';
export { compareByteStrings, derivationToByteString, writeDerivation } from './write.js';
