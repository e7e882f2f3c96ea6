// Streaming compressors and decompressors for every supported compression:
// gzip through node:zlib (it runs on libuv's thread pool), zstd and lzip
// through their programs (no npm package for lzip; the zstd program is as fast
// as a binding and needs no native build). Each call returns a fresh Duplex.
import { PassThrough, Transform, type Duplex } from 'node:stream';
import { constants as zlibConstants, createGunzip, createGzip } from 'node:zlib';
import { CompressionError } from '../errors.js';
import { createProgramFilter } from './child-process-filter.js';
import type { Compression } from './compression.js';

/** Options of a compressor. */
export interface CompressOptions {
  /**
   * Compression level in the codec's own scale. Defaults: gzip 6, zstd 3
   * (fast; the farm's CPUs matter more than a few percent), lzip 6 (Guix's choice).
   */
  readonly level?: number;
}

const CHUNK = 1 << 20;

/** A stream that compresses what is written to it with `compression`. */
export function createCompressor(compression: Compression, options: CompressOptions = {}): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough({ highWaterMark: CHUNK });
    case 'gzip':
      return mapZlibErrors(
        createGzip({ level: options.level ?? 6, chunkSize: CHUNK }),
        'program-failed',
        'gzip compression',
      );
    case 'zstd':
      return createProgramFilter({
        program: 'zstd',
        args: ['-c', '-q', `-${options.level ?? 3}`, '-'],
        failureCode: 'program-failed',
        what: 'zstd compression',
      });
    case 'lzip':
      return createProgramFilter({
        program: 'lzip',
        args: ['-c', '-q', `-${options.level ?? 6}`],
        failureCode: 'program-failed',
        what: 'lzip compression',
      });
  }
}

/** A stream that decompresses `compression`; bad or truncated input fails with `corrupt-compression`. */
export function createDecompressor(compression: Compression): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough({ highWaterMark: CHUNK });
    case 'gzip':
      return mapZlibErrors(createGunzip({ chunkSize: CHUNK }), 'corrupt-compression', 'gzip decompression');
    case 'zstd':
      return createProgramFilter({
        program: 'zstd',
        args: ['-d', '-c', '-q', '-'],
        failureCode: 'corrupt-compression',
        what: 'zstd decompression',
      });
    case 'lzip':
      // lzip ignores trailing bytes unless told: they would be stored and served.
      return createProgramFilter({
        program: 'lzip',
        args: ['-d', '-c', '-q', '--trailing-error'],
        failureCode: 'corrupt-compression',
        what: 'lzip decompression',
      });
  }
}

/**
 * A gunzip that decodes what has arrived so far of a gzip stream that is
 * still being written (a live log): a missing end is not an error.
 */
export function createPartialGunzip(): Transform {
  return createGunzip({ chunkSize: CHUNK, finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

/**
 * Turns zlib's own errors (codes `Z_*`, `ERR_ZLIB_*`) into CompressionErrors,
 * keeping the stream itself; errors that destroy it from outside pass unchanged.
 */
function mapZlibErrors(
  stream: Transform,
  code: 'corrupt-compression' | 'program-failed',
  what: string,
): Transform {
  const destroy = stream.destroy.bind(stream);
  stream.destroy = (error?: Error) => {
    const zlibCode = error !== undefined && 'code' in error ? error.code : undefined;
    if (error !== undefined && typeof zlibCode === 'string' && /^(Z_|ERR_ZLIB)/.test(zlibCode)) {
      error = new CompressionError(code, `${what} failed: ${error.message}`, { cause: error });
    }
    return destroy(error);
  };
  return stream;
}
