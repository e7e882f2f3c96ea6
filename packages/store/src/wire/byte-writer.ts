// Encoders for the length-prefixed framing shared by NAR, the export format
// and the daemon protocol.

const ZEROS = new Uint8Array(8);

/** A u64 little-endian integer (n must be a safe non-negative integer). */
export function encodeU64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a u64: ${n}`);
  const out = new Uint8Array(8);
  const lo = n % 0x1_0000_0000;
  const hi = Math.floor(n / 0x1_0000_0000);
  new DataView(out.buffer).setUint32(0, lo, true);
  new DataView(out.buffer).setUint32(4, hi, true);
  return out;
}

/** The zero bytes that pad `length` bytes to a multiple of 8. */
export function padding(length: number): Uint8Array {
  return ZEROS.subarray(0, (8 - (length % 8)) % 8);
}

/** A length-prefixed, zero-padded string, as one buffer. Text is written as UTF-8. */
export function encodeBytes(bytes: Uint8Array | string): Uint8Array {
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const pad = (8 - (data.length % 8)) % 8;
  const out = new Uint8Array(8 + data.length + pad);
  out.set(encodeU64(data.length), 0);
  out.set(data, 8);
  return out;
}

/** A list of strings: the count, then each string. */
export function encodeStringList(items: readonly (Uint8Array | string)[]): Uint8Array {
  return Buffer.concat([encodeU64(items.length), ...items.map(encodeBytes)]);
}
