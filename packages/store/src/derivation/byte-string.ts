// Conversions between bytes, byte strings (one code unit per byte) and UTF-8 text.
import { quote } from '../errors.js';
import { DerivationError } from './errors.js';

/** Bytes → byte string (each byte becomes the code unit of the same value). */
export function bytesToByteString(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end);
}

/** True when every code unit of `s` is a byte (≤ 0xFF). */
export function isByteString(s: string): boolean {
  // eslint-disable-next-line no-control-regex -- the range starts at NUL on purpose: every byte value
  return !/[^\u0000-\u00ff]/.test(s);
}

/** Byte string → bytes; throws DerivationError `drv-not-bytes` on a code unit above 0xFF. */
export function byteStringToBytes(s: string, field = 'derivation'): Uint8Array {
  if (!isByteString(s)) {
    throw new DerivationError('drv-not-bytes', 'a derivation string holds a character above 0xFF', {
      field,
      expected: 'a byte string (use utf8ToByteString for text)',
      found: quote(s),
    });
  }
  return new Uint8Array(Buffer.from(s, 'latin1'));
}

/** UTF-8 text → byte string (for building derivations from ordinary JS strings). */
export function utf8ToByteString(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Byte string → text, decoding the bytes as UTF-8 (invalid sequences become U+FFFD). */
export function byteStringToUtf8(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}
