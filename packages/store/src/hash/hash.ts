// A hash value (algorithm + digest) and its text forms: base16, Nix base32,
// base64, `algo:<text>` (NarHash is `sha256:<nix32>`) and SRI `algo-<base64>`.
import { decodeNix32, encodeNix32, nix32Length } from '../base32/index.js';
import { quote } from '../errors.js';
import { HASH_SIZES, isHashAlgorithm, parseHashAlgorithm, type HashAlgorithm } from './algorithms.js';
import { decodeBase16, decodeBase64, encodeBase16, encodeBase64 } from './encodings.js';
import { HashError } from './errors.js';

/** A digest and the algorithm that made it. */
export interface Hash {
  readonly algorithm: HashAlgorithm;
  readonly digest: Uint8Array;
}

/** Text encodings of a digest. */
export type HashEncoding = 'base16' | 'nix32' | 'base64';

/** Makes a Hash, checking that the digest has the algorithm's size (HashError `hash-size`). */
export function makeHash(algorithm: HashAlgorithm, digest: Uint8Array): Hash {
  if (digest.length !== HASH_SIZES[algorithm]) {
    throw new HashError('hash-size', `a ${algorithm} digest has the wrong size`, {
      expected: `${HASH_SIZES[algorithm]} bytes`,
      found: `${digest.length} bytes`,
    });
  }
  return { algorithm, digest };
}

/** Encodes a digest alone, without the algorithm. */
export function encodeDigest(digest: Uint8Array, encoding: HashEncoding): string {
  if (encoding === 'base16') return encodeBase16(digest);
  if (encoding === 'nix32') return encodeNix32(digest);
  return encodeBase64(digest);
}

/**
 * Formats a hash as `algo:<text>` (the default encoding is Nix base32, the
 * form of narinfo's NarHash), or without the prefix when `prefix` is false.
 */
export function formatHash(hash: Hash, encoding: HashEncoding = 'nix32', prefix = true): string {
  const text = encodeDigest(hash.digest, encoding);
  return prefix ? `${hash.algorithm}:${text}` : text;
}

/** Formats a hash in SRI form: `sha256-<base64>`. */
export function formatSri(hash: Hash): string {
  return `${hash.algorithm}-${encodeBase64(hash.digest)}`;
}

/**
 * Decodes a digest of `algorithm` written in base16, Nix base32 or base64;
 * the encoding is told by the text's length, as Nix does.
 */
export function decodeDigest(text: string, algorithm: HashAlgorithm): Uint8Array {
  const size = HASH_SIZES[algorithm];
  if (text.length === size * 2) return decodeBase16(text);
  if (text.length === nix32Length(size)) return decodeNix32(text);
  if (text.length === Math.ceil(size / 3) * 4) return decodeBase64(text);
  throw new HashError('hash-length', `${algorithm} hash text has a length of no known encoding`, {
    expected: `${size * 2} (base16), ${nix32Length(size)} (nix32) or ${Math.ceil(size / 3) * 4} (base64) characters`,
    found: `${text.length} characters: ${quote(text)}`,
  });
}

/**
 * Parses `algo:<text>`, SRI `algo-<base64>`, or (when `algorithm` is given)
 * a bare digest. A prefix that contradicts `algorithm` is refused.
 */
export function parseHash(text: string, algorithm?: HashAlgorithm): Hash {
  const colon = text.indexOf(':');
  const dash = text.indexOf('-');
  let algo: HashAlgorithm;
  let rest: string;
  let sri = false;
  if (colon >= 0) {
    algo = parseHashAlgorithm(text.slice(0, colon));
    rest = text.slice(colon + 1);
  } else if (dash >= 0 && isHashAlgorithm(text.slice(0, dash))) {
    algo = parseHashAlgorithm(text.slice(0, dash));
    rest = text.slice(dash + 1);
    sri = true;
  } else if (algorithm !== undefined) {
    algo = algorithm;
    rest = text;
  } else {
    throw new HashError('hash-prefix', 'hash text names no algorithm', {
      expected: 'algo:<digest> or algo-<base64>',
      found: quote(text),
    });
  }
  if (algorithm !== undefined && algo !== algorithm) {
    throw new HashError('hash-algorithm', 'hash has an unexpected algorithm', {
      expected: algorithm,
      found: algo,
    });
  }
  const digest = sri ? decodeBase64(rest) : decodeDigest(rest, algo);
  return makeHash(algo, digest);
}

/** True when two hashes have the same algorithm and digest. */
export function hashesEqual(a: Hash, b: Hash): boolean {
  return a.algorithm === b.algorithm && Buffer.compare(a.digest, b.digest) === 0;
}
