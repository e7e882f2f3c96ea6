// What an uploader declares about a NAR (hash, size) and the check of the
// bytes against it: sha256 and byte count of the uncompressed NAR.
import { createHash, type Hash as CryptoHash } from 'node:crypto';
import { formatHash, makeHash, parseHash, type Hash } from '@gbc/store';
import { UploadRefusedError } from '../errors.js';

/** Parses a declared NAR hash: `sha256:<nix32>`, `sha256:<hex>`, SRI `sha256-<base64>`, or a bare hex/nix32 digest. */
export function parseNarHash(text: string): Hash {
  try {
    return parseHash(text.trim(), 'sha256');
  } catch (error) {
    throw new UploadRefusedError('invalid-hash', 'the declared NAR hash is not a sha256 hash', {
      expected: 'sha256:<nix32>, sha256:<hex> or sha256-<base64>',
      found: JSON.stringify(text.slice(0, 100)),
      cause: error,
    });
  }
}

/**
 * Accumulates the uncompressed NAR: refuses it as soon as it exceeds the
 * declared size; `finish` checks size and hash.
 */
export class NarVerifier {
  readonly #hash: CryptoHash = createHash('sha256');
  readonly #expected: Hash;
  readonly #size: number;
  #received = 0;

  constructor(expected: Hash, size: number) {
    this.#expected = expected;
    this.#size = size;
  }

  /** Bytes of NAR seen so far. */
  get received(): number {
    return this.#received;
  }

  /** Feeds the next uncompressed bytes; throws `size-mismatch` at once when past the declared size. */
  update(chunk: Uint8Array): void {
    this.#received += chunk.length;
    if (this.#received > this.#size) {
      throw new UploadRefusedError('size-mismatch', 'the NAR is longer than its declared size', {
        expected: `${this.#size} bytes`,
        found: `at least ${this.#received} bytes`,
      });
    }
    this.#hash.update(chunk);
  }

  /** Checks the totals at the end of the stream; returns the NAR's hash. */
  finish(): Hash {
    if (this.#received < this.#size) {
      throw new UploadRefusedError('truncated', 'the NAR ended before its declared size', {
        expected: `${this.#size} bytes`,
        found: `${this.#received} bytes`,
      });
    }
    const actual = makeHash('sha256', this.#hash.digest());
    if (Buffer.compare(actual.digest, this.#expected.digest) !== 0) {
      throw new UploadRefusedError('hash-mismatch', 'the NAR does not have the declared hash', {
        expected: formatHash(this.#expected),
        found: formatHash(actual),
      });
    }
    return actual;
  }
}
