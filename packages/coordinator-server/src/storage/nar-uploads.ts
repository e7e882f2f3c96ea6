// Verified, resumable NAR uploads. The stored file is exactly the compressed
// stream the agent sent (the cache serves it as is); while it is written to
// `<scratch>/uploads/<id>.part` it is decompressed, hashed, counted and parsed
// as a NAR, and it is moved into storage only if the NAR is well formed and
// its sha256 and size match the declared ones. A broken body keeps the partial file; a resumed upload re-reads the
// kept prefix through the same check, so verification always covers every byte.
import { createHash } from 'node:crypto';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { formatHash, makeHash, type Hash } from '@gbc/store';
import { createDecompressor } from '../compression/codecs.js';
import type { Compression } from '../compression/compression.js';
import { StorageError, UploadRefusedError } from '../errors.js';
import { syncDirectory, writeAll } from './durable-file.js';
import { NarVerifier, parseNarHash } from './expected-nar.js';
import { tap, validateNarStream } from './nar-structure.js';
import { checkStorageKey, type Storage } from './storage.js';
import {
  checkUploadId,
  listUploads,
  makeManifest,
  readUploadStatus,
  removeTemporaryFiles,
  removeUpload,
  sameManifest,
  uploadPaths,
  writeManifest,
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

/** Compressed bytes allowed for a NAR of `narSize` bytes: incompressible data grows a little in any codec. */
export function maxCompressedSize(narSize: number): number {
  return narSize + Math.ceil(narSize / 64) + 65_536;
}

/** Creates the upload receiver over `storage` (partial uploads under `<scratchDir>/uploads`). */
export async function createNarUploads(options: NarUploadsOptions): Promise<NarUploads> {
  const dir = join(options.storage.scratchDir, 'uploads');
  await mkdir(dir, { recursive: true });
  await removeTemporaryFiles(dir);
  const maxNarSize = options.maxNarSize ?? 32 * 2 ** 30;
  const validateStructure = options.validateStructure ?? true;
  const active = new Set<string>();

  async function receive(request: NarUploadRequest): Promise<StoredNar> {
    const uploadId = checkUploadId(request.uploadId);
    checkStorageKey(request.key);
    const expected = parseNarHash(request.narHash);
    const narSize = request.narSize;
    if (!Number.isSafeInteger(narSize) || narSize < 0) {
      throw new UploadRefusedError('size-mismatch', 'the declared NAR size is not a byte count', { found: String(narSize) });
    }
    if (narSize > maxNarSize) {
      throw new UploadRefusedError('too-large', 'the NAR is larger than this coordinator accepts', { expected: `at most ${maxNarSize} bytes`, found: `${narSize} bytes` });
    }
    if (active.has(uploadId)) {
      throw new StorageError('upload-in-progress', `upload ${uploadId} is being received by another request; retry when it ends`);
    }
    active.add(uploadId);
    try {
      const offset = await prepare(uploadId, makeManifest(request.key, request.compression, expected, narSize), request.offset ?? 0);
      return await transfer(uploadId, request, expected, offset);
    } finally {
      active.delete(uploadId);
    }
  }

  /** Checks the resume offset against the directory and makes the state ready; returns the offset. */
  async function prepare(uploadId: string, manifest: ReturnType<typeof makeManifest>, offset: number): Promise<number> {
    if (offset === 0) {
      await removeUpload(dir, uploadId);
      await writeManifest(dir, uploadId, manifest);
      return 0;
    }
    const status = await readUploadStatus(dir, uploadId);
    if (status === null || !sameManifest(status, manifest)) {
      await removeUpload(dir, uploadId);
      throw new UploadRefusedError('offset-mismatch', 'there is no partial upload like this one to resume; start over from byte 0', { received: 0 });
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > status.received) {
      throw new UploadRefusedError('offset-mismatch', 'cannot resume the upload at this offset', {
        expected: `at most ${status.received}`,
        found: String(offset),
        received: status.received,
      });
    }
    return offset;
  }

  async function transfer(uploadId: string, request: NarUploadRequest, expected: Hash, offset: number): Promise<StoredNar> {
    const paths = uploadPaths(dir, uploadId);
    const handle = await open(paths.part, offset === 0 ? 'w+' : 'r+');
    let bodyBroke = false;
    let fileSize = offset;
    const limit = maxCompressedSize(request.narSize);
    const fileHash = request.compression === 'none' ? null : createHash('sha256');
    const verifier = new NarVerifier(expected, request.narSize);
    try {
      if (offset === 0) await syncDirectory(dir);
      else await handle.truncate(offset); // the client's offset wins over bytes it does not know we have
      async function* source(): AsyncGenerator<Uint8Array> {
        if (offset > 0) {
          for await (const chunk of handle.createReadStream({ start: 0, end: offset - 1, highWaterMark: 1 << 20, autoClose: false })) {
            fileHash?.update(chunk as Buffer);
            yield chunk as Buffer;
          }
        }
        let writing: Promise<number> = Promise.resolve(0);
        const iterator = request.body[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<Uint8Array>;
          try {
            next = await iterator.next();
          } catch (error) {
            bodyBroke = true;
            await writing.catch(() => 0);
            throw error;
          }
          await writing;
          if (next.done) break;
          const chunk = next.value;
          const position = fileSize;
          fileSize += chunk.length;
          if (fileSize > limit) {
            throw new UploadRefusedError('too-large', 'the compressed upload is larger than its NAR allows', { expected: `at most ${limit} bytes`, found: `at least ${fileSize} bytes` });
          }
          // The write runs on the thread pool while the chunk is hashed and decompressed.
          writing = writeAll(handle, chunk, position);
          fileHash?.update(chunk);
          yield chunk;
        }
      }
      const sink = async (decoded: AsyncIterable<Uint8Array>): Promise<void> => {
        if (validateStructure) await validateNarStream(tap(decoded, (chunk) => verifier.update(chunk)));
        else for await (const chunk of decoded) verifier.update(chunk);
      };
      if (request.compression === 'none') await pipeline(source, sink);
      else await pipeline(source, createDecompressor(request.compression), sink);
      const narHash = verifier.finish();
      await handle.sync();
      const written = (await handle.stat()).size;
      await handle.close();
      if (written !== fileSize) {
        throw new StorageError('io', `the partial file of upload ${uploadId} has ${written} bytes, expected ${fileSize}`);
      }
      await options.storage.putFile('nar', request.key, paths.part);
      await removeUpload(dir, uploadId);
      return {
        key: request.key,
        compression: request.compression,
        fileHash: fileHash === null ? formatHash(narHash) : formatHash(makeHash('sha256', fileHash.digest())),
        fileSize,
        narHash: formatHash(narHash),
        narSize: request.narSize,
      };
    } catch (error) {
      await closeQuietly(handle);
      if (bodyBroke) {
        const received = await stat(paths.part).then((s) => s.size, () => 0);
        throw new StorageError('interrupted', `the upload ${uploadId} broke off; resume it from byte ${received}`, { received, cause: error });
      }
      await removeUpload(dir, uploadId);
      throw error;
    }
  }

  return {
    receive,
    status: (uploadId) => readUploadStatus(dir, uploadId),
    list: () => listUploads(dir),
    async discard(uploadId) {
      if (active.has(checkUploadId(uploadId))) return false;
      return removeUpload(dir, uploadId);
    },
    async sweep(before) {
      let removed = 0;
      for (const upload of await listUploads(dir)) {
        if (upload.updatedAt < before && !active.has(upload.uploadId) && (await removeUpload(dir, upload.uploadId))) removed++;
      }
      return removed;
    },
  };
}

async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.sync().catch(() => {});
  await handle.close().catch(() => {});
}
