// Uploads one output: the daemon dumps it as a NAR, it is compressed into a
// spool file (so an interrupted upload resends the very same bytes; in memory
// for NARs under SPOOL_IN_MEMORY_BYTES), then sent with its NAR hash, size,
// references and deriver, resuming from the coordinator's `bytesReceived`
// after a failure.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AgentClient, StoredNar } from '@gbc/protocol';
import { decodeBase16, encodeNix32, storePathBasename } from '@gbc/store';
import type { BuildDaemon } from '@gbc/store';
import type { UploadCompression } from './compression.js';
import { createCompressor } from './compression.js';
import { AgentError } from './errors.js';

/** NARs smaller than this are compressed into memory rather than a spool file (most outputs of a farm are small). */
const SPOOL_IN_MEMORY_BYTES = 4 * 2 ** 20;

/** What an output upload needs. */
export interface UploadContext {
  readonly client: AgentClient;
  readonly daemon: BuildDaemon;
  readonly spoolDir: string;
  readonly compression: UploadCompression;
  /** NARs smaller than this many bytes are sent uncompressed (see AgentOptions.compressAboveBytes). */
  readonly compressAboveBytes: number;
  /** Wraps each attempt (retries with backoff on transient failures). */
  readonly call: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** Uploads output `name` (store path `path`) of `build`; returns what the coordinator stored. */
export async function uploadOutput(
  ctx: UploadContext,
  build: string,
  drvPath: string,
  name: string,
  path: string,
): Promise<StoredNar | null> {
  const info = await ctx.daemon.queryPathInfo(path);
  if (info === null)
    throw new AgentError(
      'missing-output',
      `build ${build}: output ${name} (${path}) is not valid in the daemon after the build`,
    );
  const compression = info.narSize < ctx.compressAboveBytes ? 'none' : ctx.compression;
  const spool =
    info.narSize < SPOOL_IN_MEMORY_BYTES
      ? undefined
      : join(ctx.spoolDir, `upload-${randomBytes(8).toString('hex')}.nar`);
  try {
    const nar = Readable.from(ctx.daemon.dumpPath(path));
    let bytes: Buffer | undefined;
    if (spool === undefined) {
      const chunks: Buffer[] = [];
      await pipeline(nar, createCompressor(compression), async (compressed: AsyncIterable<Buffer>) => {
        for await (const chunk of compressed) chunks.push(chunk);
      });
      bytes = Buffer.concat(chunks);
    } else {
      await mkdir(ctx.spoolDir, { recursive: true });
      await pipeline(nar, createCompressor(compression), createWriteStream(spool));
    }
    const meta = {
      compression,
      narHash: `sha256:${encodeNix32(decodeBase16(info.narHash))}`,
      narSize: info.narSize,
      references: info.references.map(storePathBasename),
      deriver: storePathBasename(info.deriver ?? drvPath),
    };
    let first = true;
    return await ctx.call(async () => {
      let offset = 0;
      if (!first) {
        const progress = await ctx.client.outputUploadProgress(build, name);
        if (progress.complete) return null;
        offset = progress.bytesReceived;
      }
      first = false;
      // After a broken request the coordinator may still be closing it: it answers
      // 503 upload-in-progress until then, which `call` retries like any 5xx.
      const body = bytes !== undefined ? bytes.subarray(offset) : createReadStream(spool!, { start: offset });
      return await ctx.client.uploadOutput(build, name, meta, body, { offset });
    });
  } finally {
    if (spool !== undefined) await rm(spool, { force: true });
  }
}
