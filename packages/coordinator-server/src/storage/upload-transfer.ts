// One request's transfer of a NAR upload: the kept prefix (on resume) and the
// new body flow through the decompressor into the hasher and NAR parser, while
// the new bytes are written at their positions in the `.part` file; on success
// the file is synced and moved into storage (the partial file is not synced
// while it grows: see upload-state.ts), on bad data it is removed, and on
// a broken body it is kept for the next resume. A small upload from byte 0
// (most outputs of a farm) is held in memory instead and written to storage
// once verified: no manifest or partial file unless its body breaks off, when
// the bytes received are written out to resume from like any other. With a
// storage that stages writes (an object store), the bytes also stream to the
// store as they come; the commit then publishes the staged object, and the
// partial file is only the copy that a resume re-reads and re-verifies.
import { createHash } from 'node:crypto';
import { open, stat, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatHash, makeHash, type Hash } from '@gbc/store';
import { createDecompressor } from '../compression/codecs.js';
import { StorageError, UploadRefusedError } from '../errors.js';
import { writeAll } from './durable-file.js';
import { NarVerifier } from './expected-nar.js';
import { tap, validateNarStream } from './nar-structure.js';
import type { NarUploadRequest, StoredNar } from './nar-uploads.js';
import type { StagedWrite, Storage } from './storage.js';
import { makeManifest, removeUpload, uploadPaths, writeManifest } from './upload-state.js';

/** What a transfer needs from its receiver. */
export interface TransferContext {
  /** The directory of partial uploads. */
  readonly dir: string;
  readonly storage: Storage;
  readonly validateStructure: boolean;
  /** Most NAR bytes decoded per compressed byte received, past {@link EXPANSION_ALLOWANCE}. */
  readonly maxExpansion: number;
}

/** NAR bytes any upload may decode before its expansion ratio is checked. */
export const EXPANSION_ALLOWANCE = 64 * 1024 * 1024;

/** Compressed bytes allowed for a NAR of `narSize` bytes: incompressible data grows a little in any codec. */
export function maxCompressedSize(narSize: number): number {
  return narSize + Math.ceil(narSize / 64) + 65_536;
}

/** Where a transfer starts: the resume offset, and the staged write an earlier request left. */
export interface TransferStart {
  readonly offset: number;
  readonly staged?: string;
}

/**
 * Receives `request.body` from `offset` on and finishes the upload (see the
 * file header), holding the bytes `inMemory` (only from byte 0) or in the
 * partial file. The caller has checked the declarations and the offset.
 */
export async function transferUpload(
  context: TransferContext,
  uploadId: string,
  request: NarUploadRequest,
  expected: Hash,
  start: TransferStart,
  inMemory: boolean,
): Promise<StoredNar> {
  const offset = start.offset;
  const part = inMemory
    ? memoryPart(context, uploadId, request, expected)
    : await filePart(context, uploadId, request, expected, start);
  const body = { broke: false }; // set inside the source generator (a closure the checker cannot follow)
  let fileSize = offset;
  const limit = maxCompressedSize(request.narSize);
  const fileHash = request.compression === 'none' ? null : createHash('sha256');
  const verifier = new NarVerifier(expected, request.narSize);
  // Why the upload was refused, as our own checks said it: node's pipeline
  // may report its teardown instead (an AbortError from a stage it aborted).
  let refusal: StorageError | undefined;
  const refuse = (error: unknown): never => {
    if (error instanceof StorageError) refusal ??= error;
    throw error;
  };
  try {
    async function* source(): AsyncGenerator<Uint8Array> {
      for await (const chunk of part.kept()) {
        fileHash?.update(chunk);
        yield chunk;
      }
      let writing: Promise<unknown> = Promise.resolve();
      const iterator = request.body[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
        } catch (error) {
          body.broke = true;
          await writing.catch(() => 0);
          throw error;
        }
        await writing;
        if (next.done) break;
        const chunk = next.value;
        const position = fileSize;
        fileSize += chunk.length;
        if (fileSize > limit) {
          refuse(
            new UploadRefusedError('too-large', 'the compressed upload is larger than its NAR allows', {
              expected: `at most ${limit} bytes`,
              found: `at least ${fileSize} bytes`,
            }),
          );
        }
        // A file write runs on the thread pool while the chunk is hashed and decompressed.
        writing = part.write(chunk, position);
        fileHash?.update(chunk);
        yield chunk;
      }
    }
    // Decoding work stays proportional to the bytes the client actually sent.
    const count = (chunk: Uint8Array): void => {
      verifier.update(chunk);
      request.inspector?.update(chunk);
      const decoded = verifier.received;
      if (decoded > EXPANSION_ALLOWANCE && decoded > fileSize * context.maxExpansion) {
        refuse(
          new UploadRefusedError(
            'too-large',
            `the upload decodes to more than ${context.maxExpansion} times its compressed size; send it less compressed`,
            {
              expected: `at most ${context.maxExpansion} NAR bytes per compressed byte`,
              found: `${decoded} NAR bytes from ${fileSize} compressed bytes`,
            },
          ),
        );
      }
    };
    const sink = async (decoded: AsyncIterable<Uint8Array>): Promise<void> => {
      try {
        if (context.validateStructure) await validateNarStream(tap(decoded, count));
        else for await (const chunk of decoded) count(chunk);
      } catch (error) {
        refuse(error);
      }
    };
    // At most two chunks queued ahead (the default of 16 costs 16 MiB of 1 MiB chunks).
    const input = Readable.from(source(), { objectMode: true, highWaterMark: 2 });
    if (request.compression === 'none') await pipeline(input, sink);
    else await pipeline(input, createDecompressor(request.compression), sink);
    const narHash = verifier.finish();
    try {
      request.inspector?.finish();
    } catch (error) {
      refuse(error);
    }
    await part.commit(request.key, fileSize);
    return {
      key: request.key,
      compression: request.compression,
      fileHash: fileHash === null ? formatHash(narHash) : formatHash(makeHash('sha256', fileHash.digest())),
      fileSize,
      narHash: formatHash(narHash),
      narSize: request.narSize,
    };
  } catch (thrown) {
    const error = refusal ?? thrown;
    if (!body.broke) {
      await part.drop();
      throw error;
    }
    const received = await part.keep();
    throw new StorageError(
      'interrupted',
      `the upload ${uploadId} broke off; resume it from byte ${received}`,
      { received, cause: error },
    );
  }
}

/** Where an upload's compressed bytes are held while they are verified. */
interface Part {
  /** The bytes an earlier request left (on resume), to hash and decode again. */
  kept(): AsyncIterable<Buffer>;
  write(chunk: Uint8Array, position: number): Promise<unknown>;
  /** Verified: moves the bytes into storage under `key`. */
  commit(key: string, fileSize: number): Promise<void>;
  /** The body broke off: keeps what came, for a resume; returns its length. */
  keep(): Promise<number>;
  /** Refused: keeps nothing. */
  drop(): Promise<void>;
}

/**
 * The partial file: synced once, when the upload is verified (see upload-state.ts);
 * with a staged write beside it when the storage stages (see {@link stagedWrite}).
 */
async function filePart(
  context: TransferContext,
  uploadId: string,
  request: NarUploadRequest,
  expected: Hash,
  start: TransferStart,
): Promise<Part> {
  const { dir, storage } = context;
  const offset = start.offset;
  const path = uploadPaths(dir, uploadId).part;
  const handle = await open(path, offset === 0 ? 'w+' : 'r+');
  let staged: StagedWrite | null = null;
  const close = async (): Promise<void> => {
    await handle.sync().catch(() => {});
    await handle.close().catch(() => {});
  };
  try {
    if (offset > 0) await handle.truncate(offset); // the client's offset wins over bytes it does not know we have
    staged = await stagedWrite(context, uploadId, request, expected, start);
  } catch (error) {
    await close();
    await removeUpload(dir, uploadId);
    throw error;
  }
  const manifestWith = (state: string | null) => ({
    ...makeManifest(request.key, request.compression, expected, request.narSize),
    ...(state === null ? {} : { staged: state }),
  });
  return {
    async *kept() {
      if (offset === 0) return;
      let position = 0;
      for await (const chunk of handle.createReadStream({
        start: 0,
        end: offset - 1,
        highWaterMark: 1 << 20,
        autoClose: false,
      })) {
        // The staged write skips what the store kept and takes the rest again.
        await staged?.write(chunk as Buffer, position);
        position += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    },
    write: (chunk, position) =>
      staged === null
        ? writeAll(handle, chunk, position)
        : Promise.all([writeAll(handle, chunk, position), staged.write(chunk, position)]),
    async commit(key, fileSize) {
      if (staged !== null) {
        // The store holds the bytes: the partial file was only the copy for a resume.
        await handle.close();
        await staged.commit(fileSize);
        await removeUpload(dir, uploadId);
        return;
      }
      await handle.sync();
      const written = (await handle.stat()).size;
      await handle.close();
      if (written !== fileSize)
        throw new StorageError(
          'io',
          `the partial file of upload ${uploadId} has ${written} bytes, expected ${fileSize}`,
        );
      await storage.putFile('nar', key, path, { synced: true });
      await removeUpload(dir, uploadId);
    },
    async keep() {
      await close();
      if (staged !== null) await writeManifest(dir, uploadId, manifestWith(await staged.suspend()));
      return stat(path).then(
        (s) => s.size,
        () => 0,
      );
    },
    async drop() {
      await close();
      try {
        await staged?.abort();
      } catch {
        return; // the store did not answer: the manifest keeps naming the staged write, for the sweep
      }
      await removeUpload(dir, uploadId);
    },
  };
}

/** The storage's staged write of this upload (resumed from the saved state), or null when it does not stage. */
async function stagedWrite(
  context: TransferContext,
  uploadId: string,
  request: NarUploadRequest,
  expected: Hash,
  start: TransferStart,
): Promise<StagedWrite | null> {
  if (context.storage.stage === undefined) return null;
  const manifest = makeManifest(request.key, request.compression, expected, request.narSize);
  return await context.storage.stage('nar', request.key, {
    ...(start.staged === undefined ? {} : { resume: start.staged }),
    keepBelow: start.offset,
    maxSize: maxCompressedSize(request.narSize),
    // Recorded as soon as the store holds something: a sweep can abort it even after a crash.
    onState: (state) => writeManifest(context.dir, uploadId, { ...manifest, staged: state }),
  });
}

/** Memory: written to storage once verified; to a partial file and its manifest only if the body breaks off. */
function memoryPart(
  context: TransferContext,
  uploadId: string,
  request: NarUploadRequest,
  expected: Hash,
): Part {
  const chunks: Buffer[] = [];
  return {
    async *kept() {},
    write(chunk) {
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return Promise.resolve();
    },
    async commit(key) {
      await context.storage.put('nar', key, Buffer.concat(chunks));
    },
    async keep() {
      const received = Buffer.concat(chunks);
      // The partial file first: a manifest never names bytes that are not there.
      await writeFile(uploadPaths(context.dir, uploadId).part, received);
      await writeManifest(
        context.dir,
        uploadId,
        makeManifest(request.key, request.compression, expected, request.narSize),
      );
      return received.length;
    },
    drop: () => Promise.resolve(),
  };
}
