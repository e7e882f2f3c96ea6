// One request's transfer of a NAR upload: the kept prefix (on resume) and the
// new body flow through the decompressor into the hasher and NAR parser, while
// the new bytes are written at their positions in the `.part` file; on success
// the file is synced and moved into storage (the partial file is not synced
// while it grows: see upload-state.ts), on bad data it is removed, and on
// a broken body it is kept for the next resume. A small upload from byte 0
// (most outputs of a farm) is held in memory instead and written to storage
// once verified: no manifest or partial file unless its body breaks off, when
// the bytes received are written out to resume from like any other.
import { createHash } from 'node:crypto';
import { open, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatHash, makeHash, type Hash } from '@gbc/store';
import { createDecompressor } from '../compression/codecs.js';
import { StorageError, UploadRefusedError } from '../errors.js';
import { writeAll } from './durable-file.js';
import { NarVerifier } from './expected-nar.js';
import { tap, validateNarStream } from './nar-structure.js';
import type { NarUploadRequest, StoredNar } from './nar-uploads.js';
import type { Storage } from './storage.js';
import { makeManifest, removeUpload, uploadPaths, writeManifest } from './upload-state.js';

/** What a transfer needs from its receiver. */
export interface TransferContext {
  /** The directory of partial uploads. */
  readonly dir: string;
  readonly storage: Storage;
  readonly validateStructure: boolean;
  /** NARs up to this size, sent from byte 0, are received in memory. */
  readonly inMemoryUpTo: number;
}

/** Whether an upload is received in memory (see the file header): from byte 0, of a NAR up to `inMemoryUpTo` bytes. */
export function receivedInMemory(narSize: number, offset: number, inMemoryUpTo: number): boolean {
  return offset === 0 && narSize <= inMemoryUpTo;
}

/** Compressed bytes allowed for a NAR of `narSize` bytes: incompressible data grows a little in any codec. */
export function maxCompressedSize(narSize: number): number {
  return narSize + Math.ceil(narSize / 64) + 65_536;
}

/**
 * Receives `request.body` from `offset` on and finishes the upload (see the
 * file header). The caller has checked the declarations and the offset.
 */
export async function transferUpload(
context: TransferContext,
uploadId: string,
request: NarUploadRequest,
expected: Hash,
offset: number,
): Promise<StoredNar> {
const { dir, storage, validateStructure } = context;
  const paths = uploadPaths(dir, uploadId);
  const memory: Buffer[] | undefined = receivedInMemory(request.narSize, offset, context.inMemoryUpTo) ? [] : undefined;
  const handle = memory === undefined ? await open(paths.part, offset === 0 ? 'w+' : 'r+') : undefined;
  let bodyBroke = false;
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
    if (offset > 0) await handle!.truncate(offset); // the client's offset wins over bytes it does not know we have
    async function* source(): AsyncGenerator<Uint8Array> {
      if (offset > 0) {
        for await (const chunk of handle!.createReadStream({ start: 0, end: offset - 1, highWaterMark: 1 << 20, autoClose: false })) {
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
          refuse(new UploadRefusedError('too-large', 'the compressed upload is larger than its NAR allows', { expected: `at most ${limit} bytes`, found: `at least ${fileSize} bytes` }));
        }
        // The write runs on the thread pool while the chunk is hashed and decompressed.
        if (handle === undefined) memory!.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        else writing = writeAll(handle, chunk, position);
        fileHash?.update(chunk);
        yield chunk;
      }
    }
    const sink = async (decoded: AsyncIterable<Uint8Array>): Promise<void> => {
      try {
        if (validateStructure) await validateNarStream(tap(decoded, (chunk) => verifier.update(chunk)));
        else for await (const chunk of decoded) verifier.update(chunk);
      } catch (error) {
        refuse(error);
      }
    };
    // At most two chunks queued ahead (the default of 16 costs 16 MiB of 1 MiB chunks).
    const input = Readable.from(source(), { objectMode: true, highWaterMark: 2 });
    if (request.compression === 'none') await pipeline(input, sink);
    else await pipeline(input, createDecompressor(request.compression), sink);
    const narHash = verifier.finish();
    if (handle === undefined) await storage.put('nar', request.key, Buffer.concat(memory!));
    else await commitPart(storage, handle, paths.part, fileSize, uploadId, request.key, dir);
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
    if (handle === undefined) {
      if (!bodyBroke) throw error;
      const received = Buffer.concat(memory!);
      // The partial file first: a manifest never names bytes that are not there.
      await writeFile(paths.part, received);
      await writeManifest(dir, uploadId, makeManifest(request.key, request.compression, expected, request.narSize));
      throw new StorageError('interrupted', `the upload ${uploadId} broke off; resume it from byte ${received.length}`, { received: received.length, cause: error });
    }
    await closeQuietly(handle);
    if (bodyBroke) {
      const received = await stat(paths.part).then((s) => s.size, () => 0);
      throw new StorageError('interrupted', `the upload ${uploadId} broke off; resume it from byte ${received}`, { received, cause: error });
    }
    await removeUpload(dir, uploadId);
    throw error;
  }
}

/** Syncs and closes a finished partial file, then moves it into storage. */
async function commitPart(storage: Storage, handle: FileHandle, part: string, fileSize: number, uploadId: string, key: string, dir: string): Promise<void> {
  await handle.sync();
  const written = (await handle.stat()).size;
  await handle.close();
  if (written !== fileSize) {
    throw new StorageError('io', `the partial file of upload ${uploadId} has ${written} bytes, expected ${fileSize}`);
  }
  await storage.putFile('nar', key, part, { synced: true });
  await removeUpload(dir, uploadId);
}

async function closeQuietly(handle: FileHandle): Promise<void> {
  await handle.sync().catch(() => {});
  await handle.close().catch(() => {});
}
