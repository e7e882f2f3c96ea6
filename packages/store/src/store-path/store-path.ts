// Parsing and printing store paths: `<storeDir>/<32 nix32 chars>-<name>`.
import { decodeNix32 } from '../base32/index.js';
import { StoreError, quote } from '../errors.js';
import { StorePathError } from './errors.js';
import { validateStorePathName } from './name.js';
import { validateStoreDir } from './store-dir.js';

/** Length of a store path's hash part (20 bytes in Nix base32). */
export const STORE_PATH_HASH_LENGTH = 32;

/** A parsed store path. `hashPart` is the 32-character Nix base32 text. */
export interface StorePath {
  readonly storeDir: string;
  readonly hashPart: string;
  readonly name: string;
}

/** Parses a basename `<hash>-<name>` (no directory); throws StorePathError. */
export function parseStorePathBasename(basename: string): {
  readonly hashPart: string;
  readonly name: string;
} {
  if (basename.length < STORE_PATH_HASH_LENGTH + 2 || basename[STORE_PATH_HASH_LENGTH] !== '-') {
    throw new StorePathError('store-path-basename', 'invalid store path basename', {
      expected: '<32 Nix base32 characters>-<name>',
      found: quote(basename),
    });
  }
  const hashPart = basename.slice(0, STORE_PATH_HASH_LENGTH);
  try {
    decodeNix32(hashPart);
  } catch (error) {
    throw new StorePathError('store-path-hash', 'store path hash part is not Nix base32', {
      found: quote(hashPart),
      cause: error instanceof StoreError ? error : undefined,
    });
  }
  const name = validateStorePathName(basename.slice(STORE_PATH_HASH_LENGTH + 1));
  return { hashPart, name };
}

/** Parses a full store path under `storeDir` (no trailing slash, no sub-path); throws StorePathError. */
export function parseStorePath(path: string, storeDir: string): StorePath {
  validateStoreDir(storeDir);
  if (!path.startsWith(`${storeDir}/`)) {
    throw new StorePathError('store-path-dir', 'path is not in the store directory', {
      expected: `${storeDir}/…`,
      found: quote(path),
    });
  }
  const { hashPart, name } = parseStorePathBasename(path.slice(storeDir.length + 1));
  return { storeDir, hashPart, name };
}

/** True when `path` is a valid store path directly under `storeDir`. */
export function isStorePath(path: string, storeDir: string): boolean {
  try {
    parseStorePath(path, storeDir);
    return true;
  } catch (error) {
    if (error instanceof StoreError) return false;
    throw error;
  }
}

/** Prints a store path: `<storeDir>/<hashPart>-<name>`. */
export function formatStorePath(path: StorePath): string {
  return `${path.storeDir}/${path.hashPart}-${path.name}`;
}

/** The basename `<hashPart>-<name>` of a full store path (not validated). */
export function storePathBasename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The 32-character hash part of a full store path or basename (not validated). */
export function storePathHashPart(path: string): string {
  return storePathBasename(path).slice(0, STORE_PATH_HASH_LENGTH);
}

/** The name part of a full store path or basename (not validated). */
export function storePathName(path: string): string {
  return storePathBasename(path).slice(STORE_PATH_HASH_LENGTH + 1);
}
