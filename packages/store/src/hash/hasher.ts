// Hashing over node:crypto: one-shot digests, a streaming hasher that also
// counts bytes (NarHash and NarSize come from one pass), and Nix's fold.
import { createHash, type Hash as NodeHash } from 'node:crypto';
import type { HashAlgorithm } from './algorithms.js';

/** Bytes or a string (hashed as UTF-8). */
export type HashInput = Uint8Array | string;

/** Digest of `data` with `algorithm` (default sha256). */
export function hashBytes(data: HashInput, algorithm: HashAlgorithm = 'sha256'): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(data).digest());
}

/** sha256 digest (32 bytes) of `data`; strings are hashed as UTF-8. */
export function sha256(data: HashInput): Uint8Array {
  return hashBytes(data, 'sha256');
}

/** A streaming hasher: feed chunks with `update`, read the digest once with `digest`. */
export class Hasher {
  readonly algorithm: HashAlgorithm;
  #hash: NodeHash;
  #size = 0;

  /** Starts a hasher for `algorithm` (default sha256). */
  constructor(algorithm: HashAlgorithm = 'sha256') {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }

  /** Adds a chunk; returns this for chaining. */
  update(chunk: HashInput): this {
    this.#hash.update(chunk);
    this.#size += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    return this;
  }

  /** Number of bytes fed so far. */
  get size(): number {
    return this.#size;
  }

  /** The digest; the hasher cannot be used afterwards. */
  digest(): Uint8Array {
    return new Uint8Array(this.#hash.digest());
  }
}

/** Hashes an async stream of chunks; returns the digest and the byte count. */
export async function hashStream(
  chunks: AsyncIterable<Uint8Array>,
  algorithm: HashAlgorithm = 'sha256',
): Promise<{ readonly digest: Uint8Array; readonly size: number }> {
  const hasher = new Hasher(algorithm);
  for await (const chunk of chunks) hasher.update(chunk);
  const size = hasher.size;
  return { digest: hasher.digest(), size };
}

/** Nix's compressHash: XORs byte i of `digest` into byte i mod `size` (20 for store paths). */
export function foldHash(digest: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < digest.length; i++) out[i % size] = out[i % size]! ^ digest[i]!;
  return out;
}
