// Ed25519 points as libgcrypt writes them in a key's `q`: the 32-byte EdDSA
// encoding, optionally behind a 0x40 prefix, or 0x04 ‖ x ‖ y (big-endian).
import { ed25519 } from '@noble/curves/ed25519.js';
import type { EdPoint } from './ecdsa-ed25519.js';
import { GuixSignatureError } from './guix-signature-error.js';
import { bytesToBigInt } from './mpi.js';

/** Decodes `q`; throws `guix-key-bad` when it is not a point of the curve. */
export function decodeEdPoint(q: Uint8Array): EdPoint {
  try {
    if (q.length === 32) return ed25519.Point.fromBytes(q);
    if (q.length === 33 && q[0] === 0x40) return ed25519.Point.fromBytes(q.subarray(1));
    if (q.length === 65 && q[0] === 0x04) {
      const point = ed25519.Point.fromAffine({
        x: bytesToBigInt(q.subarray(1, 33)),
        y: bytesToBigInt(q.subarray(33)),
      });
      point.assertValidity();
      return point;
    }
  } catch (error) {
    throw new GuixSignatureError('guix-key-bad', 'the public point q is not on the Ed25519 curve', {
      found: Buffer.from(q).toString('hex'),
      cause: error,
    });
  }
  throw new GuixSignatureError('guix-key-bad', 'the public point q has an unknown encoding', {
    expected: '32 bytes, or 0x40 and 32 bytes, or 0x04 and 64 bytes',
    found: `${q.length} bytes`,
  });
}

/** The 32-byte EdDSA encoding Guix keys use. */
export function encodeEdPoint(point: EdPoint): Uint8Array {
  return point.toBytes();
}
