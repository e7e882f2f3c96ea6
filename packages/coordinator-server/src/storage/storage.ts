// The Storage interface: where the coordinator keeps NARs and logs, by key,
// streaming. A data directory (data-dir-storage.ts) and an S3-compatible
// object store (s3-storage.ts) implement it.
import type { Readable } from 'node:stream';
import { StorageError } from '../errors.js';

/** The separate key spaces of a Storage. */
export type StorageArea = 'nar' | 'log';

/** Metadata of one stored object. */
export interface StoredObject {
  readonly area: StorageArea;
  readonly key: string;
  /** Size in bytes of the stored (possibly compressed) file. */
  readonly size: number;
  readonly modifiedAt: Date;
}

/** A byte range to read, `end` exclusive; `end` defaults to the end of the object. */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

/** Bytes to store: any chunk stream (Node Readable, async generator, Web stream via Readable.fromWeb) or one buffer. */
export type StorageSource = AsyncIterable<Uint8Array> | Uint8Array;

/**
 * Keeps NARs and logs. Every write is atomic: an object is either absent or
 * complete under its key, whatever crashes. Keys are `/`-separated segments of
 * `[A-Za-z0-9+._?=-]`, none empty or starting with `.` (see `checkStorageKey`).
 */
export interface Storage {
  /** Stores `source` under `key`, replacing any previous object once it is complete and synced. */
  put(area: StorageArea, key: string, source: StorageSource): Promise<StoredObject>;
  /**
   * Moves a finished local file (written under `scratchDir`) into storage
   * under `key`; the file is gone afterwards. For a data directory this is a rename.
   */
  putFile(area: StorageArea, key: string, localPath: string, options?: PutFileOptions): Promise<StoredObject>;
  /** Opens an object for reading, or null when absent. */
  get(area: StorageArea, key: string, range?: ByteRange): Promise<Readable | null>;
  /** Metadata of an object, or null when absent. */
  stat(area: StorageArea, key: string): Promise<StoredObject | null>;
  /** Removes an object; false when it was absent. */
  delete(area: StorageArea, key: string): Promise<boolean>;
  /** Every object of an area whose key starts with `prefix`, in no particular order. */
  list(area: StorageArea, prefix?: string): AsyncIterable<StoredObject>;
  /** A local directory for work files (temporary, partial uploads) that `putFile` accepts. */
  readonly scratchDir: string;
  /**
   * Optional: a write that streams to the store as its bytes arrive and
   * becomes visible under `key` only when committed (an object store's
   * multipart upload kept open until the upload is verified). Without it,
   * uploads are received into `scratchDir` and moved in with `putFile`.
   */
  stage?(area: StorageArea, key: string, options: StageOptions): Promise<StagedWrite>;
  /** Abandons the staged write that `state` (from `StagedWrite.state`) names: the partial-upload sweep. */
  discardStaged?(state: string): Promise<void>;
  /**
   * Optional: a URL that serves the object directly for a while (an object
   * store's presigned GET), for a redirect; null (or no method) means serve it
   * by streaming `get`.
   */
  directUrl?(area: StorageArea, key: string): Promise<string | null>;
  /**
   * Optional: the path of the object's file when the storage is a local
   * directory (whether or not it exists), so that the binary cache can send it
   * from reused buffers instead of a stream that allocates one per chunk.
   */
  localPath?(area: StorageArea, key: string): string;
  /** Releases what the storage holds open (an object store's connections). */
  close?(): void;
}

/** Options of `Storage.stage`. */
export interface StageOptions {
  /** The saved state of an earlier, suspended write of the same key, to continue. */
  readonly resume?: string;
  /** Only bytes below this offset of the resumed write are kept (where the new request starts). */
  readonly keepBelow?: number;
  /** The most bytes the object may have (chooses the part size). */
  readonly maxSize: number;
  /** Called with the state once the store holds something to discard later (save it with the upload). */
  readonly onState?: (state: string) => Promise<void>;
}

/**
 * An object being written that nobody can read until `commit`. Bytes come
 * in order; those below `durable` are already held (kept from an earlier
 * request) and `write` skips them.
 */
export interface StagedWrite {
  /** Bytes the store already holds from a resumed write. */
  readonly durable: number;
  /** Adds `chunk`, which starts at byte `position` of the object. */
  write(chunk: Uint8Array, position: number): Promise<void>;
  /** Makes the object of `size` bytes visible under its key, atomically. */
  commit(size: number): Promise<StoredObject>;
  /** Stops writing but keeps what the store holds; returns the state to resume from (null: nothing kept). */
  suspend(): Promise<string | null>;
  /** Discards everything written. */
  abort(): Promise<void>;
}

/** Options of `Storage.putFile`. */
export interface PutFileOptions {
  /** The caller has already synced the file's data to disk (an fsync less). */
  readonly synced?: boolean;
}

const SEGMENT = /^[A-Za-z0-9+_?=-][A-Za-z0-9+._?=-]*$/;

/** Refuses keys that could escape the storage or collide with work files; returns the key. */
export function checkStorageKey(key: string): string {
  const segments = key.split('/');
  if (key.length === 0 || key.length > 1024 || !segments.every((s) => SEGMENT.test(s) && s.length <= 255)) {
    throw new StorageError('invalid-key', 'invalid storage key', {
      expected: '/-separated segments of [A-Za-z0-9+._?=-], none empty or starting with "."',
      found: JSON.stringify(key.slice(0, 80)),
    });
  }
  return key;
}
