// The store path construction shared by every kind of path:
// storeDir/ + nix32(fold20(sha256(type ":" algo ":" hex(inner) ":" storeDir ":" name))) + "-" + name.
import { encodeNix32 } from '../base32/index.js';
import { encodeBase16, foldHash, sha256, type Hash } from '../hash/index.js';
import { StorePathError } from './errors.js';
import { validateStorePathName } from './name.js';
import { validateStoreDir } from './store-dir.js';
import { parseStorePath } from './store-path.js';

/** The fingerprint whose hash names a store path (exposed for tests and debugging). */
export function storePathFingerprint(storeDir: string, type: string, inner: Hash, name: string): string {
  return `${type}:${inner.algorithm}:${encodeBase16(inner.digest)}:${storeDir}:${name}`;
}

/**
 * Makes a store path from its type (`text:…`, `source:…`, `output:out`), the
 * inner hash and the name. Validates the store directory and the name.
 */
export function makeStorePath(storeDir: string, type: string, inner: Hash, name: string): string {
  validateStoreDir(storeDir);
  validateStorePathName(name);
  const digest = sha256(storePathFingerprint(storeDir, type, inner, name));
  return `${storeDir}/${encodeNix32(foldHash(digest, 20))}-${name}`;
}

/**
 * The type of a text or source path: `kind` then `:<ref>` for each reference
 * (full paths, byte-sorted, deduplicated), then `:self` for a self reference.
 */
export function referencesType(
  storeDir: string,
  kind: 'text' | 'source',
  references: Iterable<string>,
  selfReference = false,
): string {
  const refs = [...new Set(references)];
  for (const ref of refs) parseStorePath(ref, storeDir);
  refs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (selfReference && kind === 'text') {
    throw new StorePathError('store-path-self-reference', 'a text path cannot refer to itself');
  }
  return [kind, ...refs, ...(selfReference ? ['self'] : [])].join(':');
}
