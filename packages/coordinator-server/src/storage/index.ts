// Public entry of the storage module: the Storage interface, the data
// directory and the object store, verified resumable NAR uploads and build logs.
export {
  checkStorageKey,
  type ByteRange,
  type StagedWrite,
  type StageOptions,
  type Storage,
  type StorageArea,
  type StorageSource,
  type StoredObject,
} from './storage.js';
export { createDataDirStorage } from './data-dir-storage.js';
export { createS3Storage, type S3Storage, type S3StorageOptions } from './s3-storage.js';
export { isS3Url, parseS3Url, type S3Location } from './s3-location.js';
export { openStorage, type StorageLocation } from './open-storage.js';
export { migrateStorage, type MigrateOptions, type MigrateProgress } from './migrate-storage.js';
export { NarVerifier, parseNarHash } from './expected-nar.js';
export { maxCompressedSize } from './upload-transfer.js';
export {
  createNarUploads,
  type NarInspector,
  type NarUploadRequest,
  type NarUploads,
  type NarUploadsOptions,
  type StoredNar,
} from './nar-uploads.js';
export { checkUploadId, type UploadManifest, type UploadStatus } from './upload-state.js';
export {
  createLogStore,
  type LogReading,
  type LogStore,
  type LogStoreOptions,
  type StoredLog,
} from './log-store.js';
export { narStorageKey } from './nar-key.js';
export { logKey } from './log-key.js';
