// The hash algorithms that appear in Nix and Guix store metadata, with their digest sizes.
import { HashError } from './errors.js';
import { quote } from '../errors.js';

/** A hash algorithm named the way Nix names it. */
export type HashAlgorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

/** Digest size in bytes of each algorithm. */
export const HASH_SIZES: Readonly<Record<HashAlgorithm, number>> = {
  md5: 16,
  sha1: 20,
  sha256: 32,
  sha512: 64,
};

/** True when `name` is one of the algorithms this library knows. */
export function isHashAlgorithm(name: string): name is HashAlgorithm {
  return Object.hasOwn(HASH_SIZES, name);
}

/** Returns `name` as a HashAlgorithm or throws HashError `hash-algorithm`. */
export function parseHashAlgorithm(name: string): HashAlgorithm {
  if (!isHashAlgorithm(name)) {
    throw new HashError('hash-algorithm', 'unknown hash algorithm', {
      expected: 'md5, sha1, sha256 or sha512',
      found: quote(name),
    });
  }
  return name;
}
