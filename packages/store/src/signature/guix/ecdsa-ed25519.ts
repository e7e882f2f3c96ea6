// ECDSA over the Ed25519 curve as libgcrypt computes it for Guix keys (not
// RFC 8032 EdDSA): deterministic nonces (RFC 6979, HMAC-SHA-256), r the affine
// x coordinate of k·G mod n, the 256-bit hash truncated to n's 253 bits.
import { createHmac } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bigIntToFixed, bytesToBigInt, invert, mod } from './mpi.js';

/** A point of the Ed25519 curve (noble's extended-coordinates point). */
export type EdPoint = InstanceType<typeof ed25519.Point>;

/** The curve's base point G and its prime order n. */
export const ED25519_BASE: EdPoint = ed25519.Point.BASE;
export const ED25519_ORDER: bigint = ed25519.Point.Fn.ORDER;

const QBITS = ED25519_ORDER.toString(2).length; // 253
const QBYTES = Math.ceil(QBITS / 8); // 32

/** An ECDSA signature: two integers in [1, n). */
export interface EcdsaSignature {
  readonly r: bigint;
  readonly s: bigint;
}

/** bits2int of RFC 6979: the leftmost `qlen` bits of `bytes` as an integer. */
function bits2int(bytes: Uint8Array): bigint {
  const v = bytesToBigInt(bytes);
  const excess = bytes.length * 8 - QBITS;
  return excess > 0 ? v >> BigInt(excess) : v;
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  return createHmac('sha256', key).update(Buffer.concat(parts)).digest();
}

/**
 * The RFC 6979 nonce for secret `d` and the sha256 `hash`. As in libgcrypt,
 * `d` enters as its 32 bytes even when it exceeds n (Guix keys have such d).
 */
export function rfc6979Nonce(d: bigint, hash: Uint8Array): bigint {
  const x = bigIntToFixed(d, QBYTES) as Uint8Array;
  const h1 = bigIntToFixed(mod(bits2int(hash), ED25519_ORDER), QBYTES) as Uint8Array;
  let v: Uint8Array = Buffer.alloc(32, 1);
  let k: Uint8Array = Buffer.alloc(32, 0);
  k = hmac(k, v, Uint8Array.of(0), x, h1);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(1), x, h1);
  v = hmac(k, v);
  for (;;) {
    v = hmac(k, v); // one HMAC output already holds qlen bits
    const candidate = bits2int(v);
    if (candidate > 0n && candidate < ED25519_ORDER) return candidate;
    k = hmac(k, v, Uint8Array.of(0));
    v = hmac(k, v);
  }
}

/** Signs the 32-byte sha256 `hash` with secret scalar `d` (1 ≤ d mod n). Deterministic. */
export function ecdsaSign(d: bigint, hash: Uint8Array): EcdsaSignature {
  const e = bits2int(hash);
  const k = rfc6979Nonce(d, hash);
  // r or s of zero has probability ~2^-252; libgcrypt would then loop with a new nonce.
  const r = mod(ED25519_BASE.multiply(k).toAffine().x, ED25519_ORDER);
  const s = mod(invert(k, ED25519_ORDER) * (e + r * d), ED25519_ORDER);
  return { r, s };
}

/** Checks `sig` over the sha256 `hash` with public point `q`. */
export function ecdsaVerify(q: EdPoint, hash: Uint8Array, sig: EcdsaSignature): boolean {
  const { r, s } = sig;
  if (r <= 0n || r >= ED25519_ORDER || s <= 0n || s >= ED25519_ORDER) return false;
  const w = invert(s, ED25519_ORDER);
  const u1 = mod(bits2int(hash) * w, ED25519_ORDER);
  const u2 = mod(r * w, ED25519_ORDER);
  const x = ED25519_BASE.multiplyUnsafe(u1).add(q.multiplyUnsafe(u2));
  if (x.is0()) return false;
  return mod(x.toAffine().x, ED25519_ORDER) === r;
}
