// Reads NAR tokens (tags, names, sizes) from a ByteReader, synchronously when
// the bytes are already buffered and asynchronously only when they are not:
// a NAR of many small files has a dozen tokens per file, and a promise per
// token was most of the parsing cost.
import type { ByteReader } from '../wire/index.js';
import { NarError } from './errors.js';

/** Longest fixed token of the format ("nix-archive-1"), rounded up. */
export const MAX_TAG_BYTES = 16;

/** A value now, or a promise of it when the reader had to wait for data. */
export type Maybe<T> = T | Promise<T>;

/** Reads a u64 length or size (at most Number.MAX_SAFE_INTEGER). */
export function readSize(reader: ByteReader, what: string): Maybe<number> {
  const at = reader.offset;
  const bytes = reader.readBuffered(8);
  return bytes === undefined
    ? reader.readExact(8, what).then((b) => decodeSize(b, at, what))
    : decodeSize(bytes, at, what);
}

/** Reads a length-prefixed padded string of at most `max` bytes, as a copy. */
export function readString(
  reader: ByteReader,
  max: number,
  what: string,
  code = 'string-too-long',
): Maybe<Uint8Array> {
  const at = reader.offset;
  const length = readSize(reader, `${what} length`);
  return typeof length === 'number'
    ? body(reader, length, max, at, what, code)
    : length.then((n) => body(reader, n, max, at, what, code));
}

/** Reads a short token as latin1 text; a long one is refused before its bytes are read. */
export function readTag(reader: ByteReader, code = 'unexpected-tag'): Maybe<string> {
  const bytes = readString(reader, MAX_TAG_BYTES, 'tag', code);
  return bytes instanceof Uint8Array ? latin1(bytes) : bytes.then(latin1);
}

/** Reads a token and checks it is `tag`. */
export function expectTag(reader: ByteReader, tag: string): Maybe<void> {
  const at = reader.offset;
  const found = readTag(reader);
  if (typeof found === 'string') return check(found, tag, at);
  return found.then((f) => check(f, tag, at));
}

/** The error for a token that is not one of those expected. */
export function unexpected(at: number, found: string, expected: string): NarError {
  return new NarError('unexpected-tag', 'unexpected tag', {
    offset: at,
    expected,
    found: JSON.stringify(found),
  });
}

function check(found: string, tag: string, at: number): void {
  if (found !== tag) throw unexpected(at, found, JSON.stringify(tag));
}

function body(
  reader: ByteReader,
  length: number,
  max: number,
  at: number,
  what: string,
  code: string,
): Maybe<Uint8Array> {
  if (length > max) {
    throw new NarError(code, `${what} is longer than allowed`, {
      offset: at,
      expected: `at most ${max} bytes`,
      found: `${length} bytes`,
    });
  }
  const padded = length + ((8 - (length % 8)) % 8);
  const bytes = reader.readBuffered(padded);
  if (bytes !== undefined) return unpad(bytes, length, at, what);
  return reader.readExact(padded, what).then((b) => unpad(b, length, at, what));
}

function unpad(bytes: Uint8Array, length: number, at: number, what: string): Uint8Array {
  for (let i = length; i < bytes.length; i++) {
    if (bytes[i] !== 0)
      throw new NarError('nonzero-padding', `padding after ${what} is not zero`, {
        offset: at + 8 + i,
        expected: 'zero bytes',
      });
  }
  // A copy: the source may recycle its chunk once it has been read.
  const out = new Uint8Array(length);
  out.set(bytes.subarray(0, length));
  return out;
}

function decodeSize(b: Uint8Array, at: number, what: string): number {
  const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
  if (hi > 0x1fffff) {
    throw new NarError('integer-too-large', `${what} does not fit in a safe integer`, {
      offset: at,
      expected: `at most ${Number.MAX_SAFE_INTEGER}`,
    });
  }
  return hi * 0x1_0000_0000 + lo;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}
