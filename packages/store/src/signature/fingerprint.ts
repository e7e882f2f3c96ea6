// The text Nix signs for a store path: `1;<path>;<NarHash>;<NarSize>;<refs>`.
import { encodeNix32 } from '../base32/index.js';
import { NarInfoError } from '../narinfo/narinfo-error.js';
import type { NarInfo } from '../narinfo/narinfo-types.js';
import { decodeSha256 } from '../narinfo/narinfo-values.js';
import { SignatureError } from './signature-error.js';

/**
 * The fingerprint Nix signs for a store item:
 * `1;<store path>;sha256:<nix32 NarHash>;<NarSize>;<full reference paths, sorted, comma-joined>`.
 * The NarHash is re-encoded in Nix base32 whatever encoding the narinfo used;
 * the store directory is the one `storePath` lives in.
 */
export function narInfoFingerprint(
  info: Pick<NarInfo, 'storePath' | 'narHash' | 'narSize' | 'references'>,
): string {
  const slash = info.storePath.lastIndexOf('/');
  if (slash <= 0)
    throw new SignatureError('signature-bad-info', 'cannot fingerprint a store path without a directory', {
      found: info.storePath,
    });
  if (!Number.isSafeInteger(info.narSize) || info.narSize <= 0) {
    throw new SignatureError('signature-bad-info', 'cannot fingerprint a narinfo without a NAR size', {
      found: String(info.narSize),
    });
  }
  let digest: Uint8Array;
  try {
    digest = decodeSha256(info.narHash, { field: 'NarHash' });
  } catch (error) {
    if (error instanceof NarInfoError)
      throw new SignatureError('signature-bad-info', 'cannot fingerprint a narinfo with a bad NarHash', {
        cause: error,
      });
    throw error;
  }
  const dir = info.storePath.slice(0, slash + 1);
  // Nix keeps references in a set ordered by basename, then joins full paths.
  const refs = [...info.references].sort(compareBytes).map((r) => dir + r);
  return `1;${info.storePath};sha256:${encodeNix32(digest)};${info.narSize};${refs.join(',')}`;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
