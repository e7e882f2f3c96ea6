// Verified, resumable NAR uploads. The stored file is exactly the compressed
// stream the agent sent (the cache serves it as is); while it is written to
// `<scratch>/uploads/<id>.part` it is decompressed, hashed, counted and parsed
// as a NAR, and it is moved into storage only if the NAR is well formed and
// its sha256 and size match the declared ones. A broken body keeps the
// partial file; a resumed upload re-reads the kept prefix through the same
// check, so verification always covers every byte. Limits: the declared size
// (`maxNarSize`), the compressed size (`maxCompressedSize`); decoding stops
// as soon as the NAR passes its declared size, breaks the format, or decodes
// to more than `maxExpansion` times the compressed bytes received (past a
// first allowance): a small body cannot buy gigabytes of decoding and hashing
// by declaring a huge, well-formed NAR of zeros whose hash would only fail at
// the end (the hash of a NAR cannot be checked before its last byte).
// A storage that stages writes (an object store) also receives the bytes as
// they come, unpublished until verified; the partial file stays the copy a
// resume re-reads, and discarding an upload discards its staged write too.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression } from '../compression/compression.js';
import { StorageError, UploadRefusedError } from '../errors.js';
import { parseNarHash } from './expected-nar.js';
import { checkStorageKey, type Storage } from './storage.js';
import { transferUpload } from './upload-transfer.js';
import {
  checkUploadId,
  listUploads,
  makeManifest,
  readStagedState,
  readUploadStatus,
  removeTemporaryFiles,
  removeUpload,
  sameManifest,
  writeManifest,
  type UploadManifest,
  type UploadStatus,
} from './upload-state.js';

/** One request's worth of an upload. */
export interface NarUploadRequest {
  /** Names the upload across requests and restarts, e.g. `<build-uuid>-<output>`. */
  readonly uploadId: string;
  /** Storage key of the final file (area `nar`), e.g. `zstd/<store-path-basename>`. */
  readonly key: string;
  readonly compression: Compression;
  /** Declared NarHash: `sha256:<nix32>`, `sha256:<hex>`, SRI, or a bare digest. */
  readonly narHash: string;
  /** Declared NarSize: bytes of the uncompressed NAR. */
  readonly narSize: number;
  /** Bytes of the compressed stream already sent (0 = start over); must not exceed what `status` reports. */
  readonly offset?: number;
  /** The compressed bytes from `offset` on: a Node Readable, a Web ReadableStream, any async iterable. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Looks at the decoded NAR, and may refuse it before it is stored. */
  readonly inspector?: NarInspector;
}

/**
 * A caller's own check of an upload's decoded NAR: `update` sees every byte
 * in order from byte 0 (a resumed upload's kept prefix included), `finish`
 * runs once the NAR is verified, before it is stored; an error thrown by
 * either refuses the upload and nothing is kept.
 */
export interface NarInspector {
  update(chunk: Uint8Array): void;
  finish(): void;
}

/** A NAR stored and verified. */
export interface StoredNar {
  readonly key: string;
  readonly compression: Compression;
  /** `sha256:<nix32>` of the stored (compressed) file: narinfo's FileHash. */
  readonly fileHash: string;
  readonly fileSize: number;
  /** `sha256:<nix32>` of the NAR. */
  readonly narHash: string;
  readonly narSize: number;
}

/** Limits of the upload receiver. */
export interface NarUploadsOptions {
  readonly storage: Storage;
  /** Largest NAR accepted, uncompressed bytes. Default 32 GiB. */
  readonly maxNarSize?: number;
  /** Check the NAR's format while hashing (names, order, padding, trailing bytes). Default true. */
  readonly validateStructure?: boolean;
  /**
   * Most NAR bytes decoded per compressed byte received, once the first
   * {@link EXPANSION_ALLOWANCE} bytes are decoded; beyond, the upload is
   * refused `too-large` (send it less compressed). Default 1024: gzip cannot
   * exceed about 1032:1, and real store items stay far below; zstd and lzip
   * reach tens of thousands to one only on runs of identical bytes.
   */
  readonly maxExpansion?: number;
  /**
   * NARs up to this many bytes, sent from byte 0, are received in memory, and
   * written to a partial file only if their body breaks off (to resume from
   * there like any other). Default 1 MiB; 0 receives every upload through a
   * partial file.
   */
  readonly inMemoryUpTo?: number;
}

/** Receives NAR uploads into a Storage; see the file header. */
export interface NarUploads {
  /**
   * Receives the body to its end, verifies the whole upload and stores it.
   * Throws UploadRefusedError/CompressionError (nothing kept) for bad data,
   * StorageError `interrupted` (with `received`) when the body broke off, and
   * `upload-in-progress` when the same upload id is being received already.
   */
  receive(request: NarUploadRequest): Promise<StoredNar>;
  /** The state of a partial upload (its `received` is the offset to resume from), or null. */
  status(uploadId: string): Promise<UploadStatus | null>;
  /** Every partial upload left in the directory. */
  list(): Promise<UploadStatus[]>;
  /** Discards a partial upload; false if there was none or it is being received. */
  discard(uploadId: string): Promise<boolean>;
  /** Discards partial uploads not touched since `before`; returns how many. */
  sweep(before: Date): Promise<number>;
}

/** Creates the upload receiver over `storage` (partial uploads under `<scratchDir>/uploads`). */
export async function createNarUploads(options: NarUploadsOptions): Promise<NarUploads> {
  const dir = join(options.storage.scratchDir, 'uploads');
  await mkdir(dir, { recursive: true });
  await removeTemporaryFiles(dir);
  const maxNarSize = options.maxNarSize ?? 32 * 2 ** 30;
  const validateStructure = options.validateStructure ?? true;
  const maxExpansion = options.maxExpansion ?? 1024;
  if (!(maxExpansion >= 1)) throw new RangeError(`maxExpansion must be at least 1, not ${maxExpansion}`);
  const inMemoryUpTo = options.inMemoryUpTo ?? 1 << 20;
  const active = new Set<string>();

  async function receive(request: NarUploadRequest): Promise<StoredNar> {
    const uploadId = checkUploadId(request.uploadId);
    checkStorageKey(request.key);
    const expected = parseNarHash(request.narHash);
    const narSize = request.narSize;
    if (!Number.isSafeInteger(narSize) || narSize < 0) {
      throw new UploadRefusedError('size-mismatch', 'the declared NAR size is not a byte count', {
        found: String(narSize),
      });
    }
    if (narSize > maxNarSize) {
      throw new UploadRefusedError('too-large', 'the NAR is larger than this coordinator accepts', {
        expected: `at most ${maxNarSize} bytes`,
        found: `${narSize} bytes`,
      });
    }
    if (active.has(uploadId)) {
      throw new StorageError(
        'upload-in-progress',
        `upload ${uploadId} is being received by another request; retry when it ends`,
      );
    }
    active.add(uploadId);
    try {
      const requested = request.offset ?? 0;
      const inMemory = requested === 0 && narSize <= inMemoryUpTo;
      // In memory: no manifest unless the body breaks off; a partial upload left by an earlier attempt goes.
      if (inMemory) await forget(uploadId);
      const start = inMemory
        ? { offset: 0 }
        : await prepare(
            uploadId,
            makeManifest(request.key, request.compression, expected, narSize),
            requested,
          );
      return await transferUpload(
        { dir, storage: options.storage, validateStructure, maxExpansion },
        uploadId,
        request,
        expected,
        start,
        inMemory,
      );
    } finally {
      active.delete(uploadId);
    }
  }

  /** Removes an upload's files and the staged write they name. */
  async function forget(uploadId: string): Promise<boolean> {
    const staged = await readStagedState(dir, uploadId);
    if (staged !== null) await options.storage.discardStaged?.(staged);
    return removeUpload(dir, uploadId);
  }

  /** Checks the resume offset against the directory and makes the state ready; returns where to start. */
  async function prepare(
    uploadId: string,
    manifest: UploadManifest,
    offset: number,
  ): Promise<{ offset: number; staged?: string }> {
    if (offset === 0) {
      await forget(uploadId);
      await writeManifest(dir, uploadId, manifest);
      return { offset: 0 };
    }
    const status = await readUploadStatus(dir, uploadId);
    if (status === null || !sameManifest(status, manifest)) {
      await forget(uploadId);
      throw new UploadRefusedError(
        'offset-mismatch',
        'there is no partial upload like this one to resume; start over from byte 0',
        { received: 0 },
      );
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > status.received) {
      throw new UploadRefusedError('offset-mismatch', 'cannot resume the upload at this offset', {
        expected: `at most ${status.received}`,
        found: String(offset),
        received: status.received,
      });
    }
    return { offset, ...(status.staged === undefined ? {} : { staged: status.staged }) };
  }

  return {
    receive,
    status: (uploadId) => readUploadStatus(dir, uploadId),
    list: () => listUploads(dir),
    async discard(uploadId) {
      if (active.has(checkUploadId(uploadId))) return false;
      return await forget(uploadId);
    },
    async sweep(before) {
      let removed = 0;
      for (const upload of await listUploads(dir)) {
        if (upload.updatedAt < before && !active.has(upload.uploadId) && (await forget(upload.uploadId)))
          removed++;
      }
      return removed;
    },
  };
}
