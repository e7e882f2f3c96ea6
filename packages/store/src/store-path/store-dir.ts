// The store directory (`/gnu/store`, `/nix/store`, …) is a parameter
// everywhere; this checks its shape once where it enters.
import { quote } from '../errors.js';
import { StorePathError } from './errors.js';

/**
 * Throws StorePathError `store-path-dir` unless `storeDir` is an absolute,
 * normalised directory without a trailing slash (e.g. `/gnu/store`).
 */
export function validateStoreDir(storeDir: string): string {
  const ok =
    storeDir.startsWith('/') &&
    storeDir.length > 1 &&
    !storeDir.endsWith('/') &&
    !storeDir.includes('//') &&
    !storeDir.split('/').some((part) => part === '.' || part === '..') &&
    !storeDir.includes(':') &&
    !storeDir.includes('\0');
  if (!ok) {
    throw new StorePathError('store-path-dir', 'invalid store directory', {
      expected: 'an absolute path without trailing slash, such as /gnu/store',
      found: quote(storeDir),
    });
  }
  return storeDir;
}
