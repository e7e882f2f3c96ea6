// Strict base16 and base64 codecs: Node's Buffer decoders silently skip bad
// characters, so these check the text before decoding it.
import { EncodingError, quote } from '../errors.js';

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Lower-case hexadecimal of `bytes`. */
export function encodeBase16(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Decodes hexadecimal (either case); throws EncodingError `base16` on any other character or an odd length. */
export function decodeBase16(text: string): Uint8Array {
  if (!HEX.test(text)) {
    throw new EncodingError('base16', 'invalid hexadecimal text', {
      expected: 'pairs of 0-9a-f',
      found: quote(text),
    });
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Standard padded base64 of `bytes`. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes standard padded base64; throws EncodingError `base64` on anything else (also non-canonical trailing bits). */
export function decodeBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) {
    throw new EncodingError('base64', 'invalid base64 text', {
      expected: 'padded standard base64',
      found: quote(text),
    });
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (encodeBase64(bytes) !== text) {
    throw new EncodingError('base64', 'base64 text has non-zero leftover bits', { found: quote(text) });
  }
  return bytes;
}
