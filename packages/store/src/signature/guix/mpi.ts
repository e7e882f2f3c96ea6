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
 * Writes `value` (≥ 0) in libgcrypt's STD MPI form, as `%M` puts it in an
 * s-expression: the fewest big-endian bytes, with a leading zero byte when the
 * top bit would otherwise be set (the form is two's complement). Zero is empty.
 */
export function bigIntToStdMpi(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, 'hex'));
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
