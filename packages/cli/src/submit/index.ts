// The submit flow (separable from the command line): see submit-derivations.ts.
export {
  submitDerivations,
  type SubmitOptions,
  type SubmitProgress,
  type SubmittedBuild,
} from './submit-derivations.js';
export { scanStoreReferences, type ScanOptions } from './source-references.js';
