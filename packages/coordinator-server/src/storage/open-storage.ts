// Opens the coordinator's Storage from its configuration: `s3://bucket/prefix…`
// names an object store (its work files then stay in `<dataDir>/scratch`),
// anything else a data directory.
import { join } from 'node:path';
import { createDataDirStorage } from './data-dir-storage.js';
import { createS3Storage } from './s3-storage.js';
import { isS3Url } from './s3-location.js';
import type { S3ClientOverrides } from './s3-location.js';
import type { Storage } from './storage.js';

/** Where NARs and logs go. */
export interface StorageLocation {
  /** `s3://bucket/prefix?…`, a data directory, or undefined for `dataDir`. */
  readonly storage?: string;
  /** The data directory: NARs and logs when `storage` names none, local work files always. */
  readonly dataDir: string;
  /** SDK settings for an object store beyond the URL and the environment (tests: credentials). */
  readonly s3?: S3ClientOverrides & { readonly partSize?: number };
}

/**
 * Opens the Storage that `location` names. `readOnly`: for reading only, by a
 * process beside the one that writes (nothing created, no leftovers removed).
 */
export async function openStorage(
  location: StorageLocation,
  options: { readonly readOnly?: boolean } = {},
): Promise<Storage> {
  const named = location.storage;
  if (named !== undefined && isS3Url(named))
    return await createS3Storage({
      ...location.s3,
      url: named,
      scratchDir: join(location.dataDir, 'scratch'),
      ...options,
    });
  return await createDataDirStorage(named ?? location.dataDir, options);
}
