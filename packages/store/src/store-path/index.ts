// Public surface of store paths: parsing, names, and path computation.
export {
  makeFixedOutputPath,
  makeOutputPath,
  makeSourcePath,
  makeTextPath,
  outputPathName,
  type FixedOutputMethod,
} from './content-paths.js';
export { StorePathError } from './errors.js';
export { makeStorePath, referencesType, storePathFingerprint } from './make-store-path.js';
export {
  MAX_STORE_PATH_NAME_LENGTH,
  isValidStorePathName,
  storePathNameProblem,
  validateStorePathName,
} from './name.js';
export { validateStoreDir } from './store-dir.js';
export {
  STORE_PATH_HASH_LENGTH,
  formatStorePath,
  isStorePath,
  parseStorePath,
  parseStorePathBasename,
  storePathBasename,
  storePathHashPart,
  storePathName,
  type StorePath,
} from './store-path.js';
