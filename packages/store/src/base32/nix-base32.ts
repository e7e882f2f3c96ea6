// Nix's base32: alphabet without e, o, u, t, encoded from the last byte of
// the input to the first, 5 bits per character.
import { EncodingError, quote } from '../errors.js';

/** The 32 characters of Nix base32, in value order. */
export const NIX32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) VALUE[NIX32_ALPHABET.charCodeAt(i)] = i;

/** Length of the Nix base32 text for `byteLength` bytes: ceil(8n/5). */
export function nix32Length(byteLength: number): number {
  return Math.ceil((byteLength * 8) / 5);
}

/** Encodes bytes in Nix base32 (52 characters for a sha256 digest, 32 for 20 bytes). */
export function encodeNix32(bytes: Uint8Array): string {
  const len = nix32Length(bytes.length);
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const lo = bytes[i]! >> j;
    const hi = i + 1 < bytes.length ? bytes[i + 1]! << (8 - j) : 0;
    out += NIX32_ALPHABET[(lo | hi) & 0x1f];
  }
  return out;
}

/** Decodes Nix base32 text; refuses foreign characters and non-zero leftover bits. */
export function decodeNix32(text: string): Uint8Array {
  const size = Math.floor((text.length * 5) / 8);
  if (nix32Length(size) !== text.length) {
    throw new EncodingError('nix32-length', 'Nix base32 text has an impossible length', {
      found: String(text.length),
    });
  }
  const out = new Uint8Array(size);
  for (let n = 0; n < text.length; n++) {
    const code = text.charCodeAt(text.length - n - 1);
    const digit = code < 128 ? VALUE[code]! : -1;
    if (digit < 0) {
      throw new EncodingError('nix32-char', 'invalid Nix base32 character', {
        offset: text.length - n - 1,
        found: quote(text[text.length - n - 1] ?? ''),
        expected: `one of ${NIX32_ALPHABET}`,
      });
    }
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    out[i] = (out[i]! | (digit << j)) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < size) out[i + 1] = out[i + 1]! | carry;
    else if (carry !== 0) {
      throw new EncodingError('nix32-padding', 'Nix base32 text has non-zero leftover bits', {
        found: quote(text),
      });
    }
  }
  return out;
}
