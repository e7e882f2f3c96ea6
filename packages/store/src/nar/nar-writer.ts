// Dumps a filesystem path as a NAR, streamed as chunks: regular files (with
// the executable bit), symlinks (never followed) and directories, entries in
// byte order of their names. Memory does not depend on file sizes.
import {
  closeSync,
  constants,
  lstatSync,
  openSync,
  readSync,
  readdirSync,
  readlinkSync,
  type Stats,
} from 'node:fs';
import { NarError } from './errors.js';
import { ChunkPool } from './chunk-pool.js';
import { DEFAULT_BATCH_BYTES, NarEncoder } from './nar-encoder.js';
import { compareBytes } from './nar-tokens.js';

/** Options of `dumpNar`. */
export interface DumpNarOptions {
  /** Size of the chunks small nodes are batched into, in bytes (default 256 KiB). */
  readonly batchBytes?: number;
  /** Size of each read of a large file, in bytes (default 1 MiB). */
  readonly readBytes?: number;
  /**
   * Take every chunk back as soon as the consumer asks for the next one
   * (default false), as if each were passed to `release`. Only for consumers
   * that are done with a chunk by then (hashing, synchronous writes,
   * compressing with a copy): a recycled chunk is overwritten after that.
   */
  readonly reuseBuffers?: boolean;
}

/** A NAR being dumped: its chunks, and the way to hand chunks back for reuse. */
export interface NarDump extends AsyncGenerator<Uint8Array, void, undefined> {
  /**
   * Hands a chunk this dump yielded back, once the consumer is done with it
   * (written, hashed, copied): its memory is used again for later chunks
   * instead of waiting for the GC, which keeps a long dump's memory flat.
   * Release each chunk at most once and never touch it afterwards; chunks
   * never released simply stay the consumer's. Bound to its pool: it may be
   * passed around on its own.
   */
  release(this: void, chunk: Uint8Array): void;
}

const SLASH = Buffer.from('/');
/** Produce this many chunks between turns given back to the event loop. */
const CHUNKS_PER_TURN = 32;

/**
 * Streams the NAR of `path` (a file, symlink or directory; `path` itself may
 * be a symlink, which is then archived as one). Each chunk belongs to the
 * consumer, who may keep it, or give it back with `release` when done with
 * it (`hashNar` does). Measured on the 1 GiB benchmark tree: released
 * chunks, 67 MiB peak RSS and 0.42 s CPU; chunks dropped without release,
 * 104 MiB and 0.53 s, as V8 lets ~64 MB of them pile up. The file system
 * is read with synchronous calls (measured: about twice as fast as
 * fs/promises for trees of small files), and the event loop gets a turn
 * every few MiB so that a long dump does not starve timers and sockets.
 */
export function dumpNar(path: string | Uint8Array, options: DumpNarOptions = {}): NarDump {
  const reuse = options.reuseBuffers ?? false;
  const pool = new ChunkPool(reuse);
  return Object.assign(generate(Buffer.from(path), options, pool, reuse), { release: pool.release });
}

async function* generate(
  path: Buffer,
  options: DumpNarOptions,
  pool: ChunkPool,
  reuse: boolean,
): AsyncGenerator<Uint8Array, void, undefined> {
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const encoder = new NarEncoder(batchBytes, pool.acquire);
  const context: Context = {
    encoder,
    pool,
    readBytes: options.readBytes ?? 1 << 20,
    yieldAt: batchBytes / 2,
  };
  let chunks = 0;
  for (const _ of walk(context, path, 0, undefined)) {
    // Everything written so far goes out, so the encoder holds no buffer the pool could recycle.
    for (const chunk of encoder.take(true)) {
      yield chunk;
      if (++chunks % CHUNKS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (reuse) pool.releaseAll();
  }
  encoder.finish();
  yield* encoder.take(true);
}

/** What every step of the walk needs. */
interface Context {
  readonly encoder: NarEncoder;
  readonly pool: ChunkPool;
  readonly readBytes: number;
  /** Hand output out once this many bytes are pending. */
  readonly yieldAt: number;
}

/** Writes one node into the encoder; yields whenever output is ready to hand out. */
function* walk(context: Context, path: Buffer, depth: number, name: Buffer | undefined): Generator<void> {
  const { encoder } = context;
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) {
    encoder.symlink(depth, name, readlinkSync(path, { encoding: 'buffer' }));
  } else if (stat.isFile()) {
    yield* dumpFile(context, path, stat, depth, name);
  } else if (stat.isDirectory()) {
    encoder.directory(depth, name);
    const names = readdirSync(path, { encoding: 'buffer' }).sort(compareBytes);
    for (const child of names) {
      yield* walk(context, Buffer.concat([path, SLASH, child]), depth + 1, child);
    }
  } else {
    throw new NarError(
      'unsupported-file-type',
      'only regular files, directories and symlinks can be archived',
      {
        field: path.toString('latin1'),
        found: `mode 0o${stat.mode.toString(8)}`,
      },
    );
  }
  if (encoder.pendingBytes >= context.yieldAt) yield;
}

function* dumpFile(
  context: Context,
  path: Buffer,
  stat: Stats,
  depth: number,
  name: Buffer | undefined,
): Generator<void> {
  const { encoder, readBytes } = context;
  const size = stat.size;
  // Nix takes the owner's execute bit as "executable".
  encoder.regular(depth, name, (stat.mode & 0o100) !== 0, size);
  if (size === 0) return;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const view = encoder.reserve(size);
    if (view !== undefined) {
      readFully(fd, view, path);
      encoder.commit(depth, size);
      return;
    }
    for (let left = size; left > 0;) {
      const part = context.pool.acquire(readBytes).subarray(0, Math.min(left, readBytes));
      readFully(fd, part, path);
      left -= part.length;
      // A part small enough to be copied into the batch is free again at once.
      if (!encoder.contents(depth, part)) context.pool.release(part);
      yield;
    }
  } finally {
    closeSync(fd);
  }
}

/** Fills `buffer` from the file's current position; a file that shrank is an error. */
function readFully(fd: number, buffer: Buffer, path: Buffer): void {
  for (let at = 0; at < buffer.length;) {
    const n = readSync(fd, buffer, at, buffer.length - at, null);
    if (n === 0) {
      throw new NarError('file-changed', 'a file shrank while it was being archived', {
        field: path.toString('latin1'),
        expected: `${buffer.length - at} more bytes`,
        found: 'end of file',
      });
    }
    at += n;
  }
}
