// NarHash (sha256 of the uncompressed NAR) and NarSize, computed on the way
// while the NAR streams somewhere else.
import { createHash, type Hash } from 'node:crypto';
import { encodeNix32 } from '../base32/index.js';

/** A NAR's hash and size. */
export interface NarDigest {
  /** sha256 of the whole NAR, 32 bytes. */
  readonly narHash: Uint8Array;
  /** Length of the NAR, in bytes. */
  readonly narSize: number;
}

/** Accumulates NarHash and NarSize over the chunks of a NAR. */
export class NarHasher {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #digest: NarDigest | undefined;

  /** Adds one chunk. */
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** Hash and size of everything seen; call once all chunks passed (no `update` after it). */
  digest(): NarDigest {
    this.#digest ??= { narHash: new Uint8Array(this.#hash.digest()), narSize: this.#size };
    return this.#digest;
  }
}

/** Passes `source`'s chunks on unchanged while feeding them to `hasher`. */
export async function* tapNarHash(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  hasher: NarHasher,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hasher.update(chunk);
    yield chunk;
  }
}

/**
 * Hashes a whole NAR stream: `{ narHash, narSize }`. Chunks of a source with
 * a `release(chunk)` method (a `dumpNar` dump) are handed back once hashed.
 */
export async function hashNar(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<NarDigest> {
  const hasher = new NarHasher();
  const release = releaseOf(source);
  for await (const chunk of source) {
    hasher.update(chunk);
    release?.(chunk);
  }
  return hasher.digest();
}

/** The source's `release(chunk)` method, if it has one. */
function releaseOf(source: object): ((chunk: Uint8Array) => void) | undefined {
  const release: unknown = (source as { release?: unknown }).release;
  return typeof release === 'function' ? (chunk) => void release.call(source, chunk) : undefined;
}

/** NarHash as written in narinfo files and by `nix-store -q --hash`: `sha256:` and Nix base32. */
export function formatNarHash(narHash: Uint8Array): string {
  return `sha256:${encodeNix32(narHash)}`;
}
