// Public surface of the hashing helpers.
export { HASH_SIZES, isHashAlgorithm, parseHashAlgorithm, type HashAlgorithm } from './algorithms.js';
export { decodeBase16, decodeBase64, encodeBase16, encodeBase64 } from './encodings.js';
export { HashError } from './errors.js';
export {
  decodeDigest,
  encodeDigest,
  formatHash,
  formatSri,
  hashesEqual,
  makeHash,
  parseHash,
  type Hash,
  type HashEncoding,
} from './hash.js';
export { Hasher, foldHash, hashBytes, hashStream, sha256, type HashInput } from './hasher.js';
