// Where a NAR is kept: `<compression>/<store-path-basename>`, the same shape
// as the `nar/<compression>/<basename>` URLs of guix publish.
import type { Compression } from '../compression/compression.js';
import { checkStorageKey } from './storage.js';

/** The storage key of a store path's NAR in `compression`, e.g. `zstd/<hash>-hello-2.12`. */
export function narStorageKey(storePath: string, compression: Compression): string {
  const basename = storePath.slice(storePath.lastIndexOf('/') + 1);
  return checkStorageKey(`${compression}/${basename}`);
}
