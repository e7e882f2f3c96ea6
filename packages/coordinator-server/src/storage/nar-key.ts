// Where a NAR is kept. Uploads go to `<compression>/<nix32 NAR hash>/<basename>`:
// a second build of the same store path whose NAR differs (a non-reproducible
// build, a bad upload) lands beside the first instead of replacing the file
// that the published narinfo describes; the datastore's file record (its
// `location`) says which one is served. Records without a location (none are
// written any more) name the older `<compression>/<basename>` layout, the shape
// of guix publish's `nar/<compression>/<basename>` URLs.
import { encodeNix32 } from '@gbc/store';
import type { Compression } from '../compression/compression.js';
import { parseNarHash } from './expected-nar.js';
import { checkStorageKey } from './storage.js';

/**
 * The storage key of a NAR of `storePath` in `compression`: with its declared
 * `narHash` (any form parseNarHash reads) the key of a new upload, e.g.
 * `zstd/<nar hash>/<hash>-hello-2.12`; without, the older layout.
 * @throws UploadRefusedError `invalid-hash` when `narHash` is not a sha256 hash.
 */
export function narStorageKey(storePath: string, compression: Compression, narHash?: string): string {
  const basename = storePath.slice(storePath.lastIndexOf('/') + 1);
  if (narHash === undefined) return checkStorageKey(`${compression}/${basename}`);
  return checkStorageKey(`${compression}/${encodeNix32(parseNarHash(narHash).digest)}/${basename}`);
}
