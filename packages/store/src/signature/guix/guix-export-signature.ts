// Signing an export as guix-daemon's export-path does and its import-paths
// requires: ECDSA (RFC 6979, Ed25519) over the export's signed hash, written
// as the advanced-form `(signature (data …) (sig-val …) (public-key …))`.
import { exportSignedHash } from '../../export/export-signature.js';
import type { ExportedPathInfo } from '../../export/export-format.js';
import { ecdsaSign } from './ecdsa-ed25519.js';
import type { GuixSecretKey } from './guix-key.js';
import { GuixSignatureError } from './guix-signature-error.js';
import { writeGuixSignatureSexp } from './guix-signature-sexp.js';
import { bytesToBigInt } from './mpi.js';

/**
 * The signature s-expression over `hash` (the 32-byte sha256 of an export's
 * NAR and trailer), as `guix authenticate sign` writes it: byte for byte.
 */
export function signGuixExportHash(hash: Uint8Array, key: GuixSecretKey): Uint8Array {
  if (hash.length !== 32) {
    throw new GuixSignatureError(
      'guix-signature-info',
      'an export signature covers a sha256 hash of 32 bytes',
      {
        expected: '32 bytes',
        found: `${hash.length} bytes`,
      },
    );
  }
  return writeGuixSignatureSexp({
    hash,
    signature: ecdsaSign(bytesToBigInt(key.d), hash),
    publicKey: key.publicKey,
  });
}

/**
 * The signature guix-daemon's import-paths checks for one path: over
 * sha256(NAR ‖ u64 0x4558494e ‖ path ‖ references ‖ deriver), with `key`
 * (which /etc/guix/acl must authorise). `nar` is the whole NAR (for a
 * stream, give `NarImport.guixSigningKey` to the daemon client instead).
 */
export function guixImportSignature(
  nar: Uint8Array | readonly Uint8Array[],
  info: Omit<ExportedPathInfo, 'signature'>,
  key: GuixSecretKey,
): Uint8Array {
  return signGuixExportHash(exportSignedHash(nar, info), key);
}
