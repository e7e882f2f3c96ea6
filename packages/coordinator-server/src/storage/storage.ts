// The Storage interface: where the coordinator keeps NARs and logs, by key,
// streaming. A data directory implements it now; an object store can later.
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
