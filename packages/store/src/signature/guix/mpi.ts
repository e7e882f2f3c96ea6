// Big integers as libgcrypt writes and reads them in s-expressions.

/** Reads bytes as an unsigned big-endian integer (libgcrypt's USG format). */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** Writes `value` (≥ 0) big-endian in exactly `length` bytes; undefined when it does not fit. */
export function bigIntToFixed(value: bigint, length: number): Uint8Array | undefined {
  const hex = value.toString(16).padStart(length * 2, '0');
  return hex.length > length * 2 ? undefined : new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * Writes `value` (≥ 0) as libgcrypt puts an MPI in a signature or key
 * s-expression: the fewest big-endian bytes, no sign byte (a high first bit
 * stays; the advanced form then shows it as hex). Zero is empty.
 */
export function bigIntToMpiBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex'));
}

/** `a` modulo `m`, in [0, m). */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** The inverse of `a` modulo the prime `m` (extended Euclid); `a` must not be 0 mod `m`. */
export function invert(a: bigint, m: bigint): bigint {
  let [t, nextT, r, nextR] = [0n, 1n, m, mod(a, m)];
  while (nextR !== 0n) {
    const q = r / nextR;
    [t, nextT] = [nextT, t - q * nextT];
    [r, nextR] = [nextR, r - q * nextR];
  }
  return mod(t, m);
}
