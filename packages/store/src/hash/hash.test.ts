// Hash helpers checked against Nix's own hash conversions and by round trips.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodingError, StoreError } from '../errors.js';
import { HASH_SIZES, type HashAlgorithm } from './algorithms.js';
import { decodeBase16, decodeBase64 } from './encodings.js';
import { HashError } from './errors.js';
import { formatHash, formatSri, hashesEqual, makeHash, parseHash } from './hash.js';
import { Hasher, foldHash, hashStream, sha256 } from './hasher.js';

const nix = (args: string[]): string => execFileSync('nix', args, { encoding: 'utf8' }).trim();

describe('hash text forms', () => {
  it('formats like `nix hash to-*` for every algorithm', () => {
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
      const hex = createHash(algorithm).update(`gbc ${algorithm}`).digest('hex');
      const hash = parseHash(`${algorithm}:${hex}`);
      expect(formatHash(hash, 'nix32')).toBe(
        nix(['hash', 'to-base32', `${algorithm}:${hex}`]).replace(/^/, `${algorithm}:`),
      );
      expect(formatSri(hash)).toBe(nix(['hash', 'to-sri', `${algorithm}:${hex}`]));
      expect(formatHash(hash, 'base64', false)).toBe(nix(['hash', 'to-base64', `${algorithm}:${hex}`]));
      expect(formatHash(hash, 'base16')).toBe(`${algorithm}:${hex}`);
    }
  });

  it('parses every form back to the same digest', () => {
    const hash = makeHash('sha256', sha256('hi'));
    for (const text of [
      formatHash(hash, 'nix32'),
      formatHash(hash, 'base16'),
      formatHash(hash, 'base64'),
      formatSri(hash),
    ]) {
      expect(hashesEqual(parseHash(text), hash)).toBe(true);
    }
    expect(hashesEqual(parseHash(formatHash(hash, 'nix32', false), 'sha256'), hash)).toBe(true);
  });

  it('refuses wrong algorithms, lengths and characters with typed errors', () => {
    const hex = 'ab'.repeat(32);
    expect(() => parseHash(`sha257:${hex}`)).toThrow(HashError);
    expect(() => parseHash(`sha1:${hex}`)).toThrow(/length of no known encoding/);
    expect(() => parseHash(`sha256:${hex}`, 'sha512')).toThrow(/unexpected algorithm/);
    expect(() => parseHash(hex)).toThrow(/names no algorithm/);
    expect(() => decodeBase16('0g')).toThrow(EncodingError);
    expect(() => decodeBase16('abc')).toThrow(EncodingError);
    expect(() => decodeBase64('AB==')).toThrow(/leftover bits/);
    expect(() => decodeBase64('A B=')).toThrow(EncodingError);
    expect(() => makeHash('sha256', new Uint8Array(31))).toThrow(/wrong size/);
  });

  it('round-trips random digests and refuses random text only with StoreError', () => {
    const algorithms = Object.keys(HASH_SIZES) as HashAlgorithm[];
    fc.assert(
      fc.property(
        fc.constantFrom(...algorithms),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (algorithm, bytes) => {
          const hash = makeHash(algorithm, bytes.slice(0, HASH_SIZES[algorithm]));
          for (const encoding of ['base16', 'nix32', 'base64'] as const) {
            expect(hashesEqual(parseHash(formatHash(hash, encoding)), hash)).toBe(true);
          }
          expect(hashesEqual(parseHash(formatSri(hash)), hash)).toBe(true);
        },
      ),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 140 }), (text) => {
        try {
          parseHash(text);
        } catch (error) {
          expect(error).toBeInstanceOf(StoreError);
        }
      }),
    );
  });
});

describe('hashers', () => {
  it('streams chunks to the same digest and counts bytes', async () => {
    const hasher = new Hasher();
    hasher.update('hello ').update(new TextEncoder().encode('world'));
    expect(hasher.size).toBe(11);
    expect(Buffer.from(hasher.digest()).toString('hex')).toBe(
      createHash('sha256').update('hello world').digest('hex'),
    );
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    const { digest, size } = await hashStream(chunks());
    expect(size).toBe(3);
    expect(digest).toEqual(sha256(new Uint8Array([1, 2, 3])));
  });

  it('folds a digest by XOR into 20 bytes', () => {
    const digest = new Uint8Array(32).map((_, i) => i);
    const folded = foldHash(digest, 20);
    expect(folded.length).toBe(20);
    expect(folded[0]).toBe(0 ^ 20);
    expect(folded[11]).toBe(11 ^ 31);
    expect(folded[12]).toBe(12);
  });
});
