// Build logs, one per attempt key: appended live (plain text in
// `<scratch>/logs/<key>`, readable while the build runs and across restarts),
// then sealed: compressed in one streaming pass into the Storage's `log` area
// as `<key><ext>` (e.g. `b1/0.gz`) and the live file removed. An append may
// say at which byte of the log its body starts: bytes already held are
// skipped, so an agent resending after a broken request never duplicates.
import { createReadStream } from 'node:fs';
import { mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createCompressor, createDecompressor } from '../compression/codecs.js';
import { compressionExtension, type Compression } from '../compression/compression.js';
import { StorageError, UploadRefusedError } from '../errors.js';
import { writeAll } from './durable-file.js';
import { skipBytes } from './skip-bytes.js';
import { checkStorageKey, type Storage, type StoredObject } from './storage.js';

/** Options of the log store. */
export interface LogStoreOptions {
  readonly storage: Storage;
  /** Compression of sealed logs. Default gzip (browsers and `curl --compressed` read it natively). */
  readonly compression?: Compression;
  /** Longest log kept, uncompressed bytes; an append past it is refused (`too-large`). Default 1 GiB. */
  readonly maxLogSize?: number;
}

/** Where an append's body starts. */
export interface AppendOptions {
  /**
   * The byte of the log where the body starts. Bytes before the log's length
   * are skipped; an offset past it is refused (`offset-mismatch`, with
   * `received`). Default: append at the end, whatever the length.
   */
  readonly offset?: number;
}

/** How much of a log is held: its uncompressed length, and whether it is sealed. */
export interface LogLength {
  readonly bytes: number;
  readonly sealed: boolean;
}

/** A log being read: uncompressed bytes, and whether the build may still add to it. */
export interface LogReading {
  readonly live: boolean;
  readonly stream: Readable;
}

/** A sealed log as stored, for serving with a Content-Encoding. */
export interface StoredLog {
  readonly compression: Compression;
  readonly size: number;
  readonly stream: Readable;
}

/** Stores and serves build logs; see the file header. */
export interface LogStore {
  /**
   * Appends bytes to a live log (creating it) from `options.offset` on; returns its length afterwards.
   * Refuses a sealed log (`log-sealed`), an offset past the end (`offset-mismatch`) and
   * bytes past the size limit (`too-large`; what fit is kept).
   */
  append(key: string, body: AsyncIterable<Uint8Array> | Uint8Array, options?: AppendOptions): Promise<number>;
  /**
   * The log's length now (0 when there is none). Not queued behind appends: a
   * live log may be longer by the time a resend arrives, which its offset allows for.
   */
  length(key: string): Promise<LogLength>;
  /** Compresses a live log into storage and removes the live file; idempotent. `not-found` when there is no log. */
  seal(key: string): Promise<StoredObject>;
  /** Reads a log from uncompressed byte `start` (default 0): the live text so far, or the sealed log; null when absent. */
  read(key: string, start?: number): Promise<LogReading | null>;
  /** Opens a sealed log as stored (compressed), or null when absent or still live. */
  readStored(key: string): Promise<StoredLog | null>;
}

/** Creates the log store over `storage`. */
export async function createLogStore(options: LogStoreOptions): Promise<LogStore> {
  const { storage } = options;
  const compression = options.compression ?? 'gzip';
  const maxLogSize = options.maxLogSize ?? 2 ** 30;
  const liveDir = join(storage.scratchDir, 'logs');
  await mkdir(liveDir, { recursive: true });
  const livePath = (key: string): string => join(liveDir, checkStorageKey(key));
  const storedKey = (key: string): string => `${key}${compressionExtension(compression)}`;
  // One append or seal at a time per key, in arrival order.
  const queues = new Map<string, Promise<unknown>>();
  function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (queues.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return run;
  }

  async function liveSize(key: string): Promise<number | null> {
    return stat(livePath(key)).then(
      (s) => s.size,
      () => null,
    );
  }

  /** A sealed log's uncompressed bytes from `start` on, or null when it is not sealed. */
  async function readSealed(key: string, start: number): Promise<Readable | null> {
    const stored = await storage.get('log', storedKey(key));
    if (stored === null) return null;
    const decoded = stored.pipe(createDecompressor(compression));
    stored.on('error', (e) => decoded.destroy(e));
    return start === 0 ? decoded : Readable.from(skipBytes(decoded, start), { objectMode: false });
  }

  return {
    append(key, body, appendOptions = {}) {
      return serialized(key, async () => {
        if ((await storage.stat('log', storedKey(key))) !== null) {
          throw new StorageError('log-sealed', `the log ${key} is finished and accepts no more output`);
        }
        const path = livePath(key);
        await mkdir(dirname(path), { recursive: true });
        const handle = await open(path, 'a');
        try {
          const start = (await handle.stat()).size;
          const { offset } = appendOptions;
          if (offset !== undefined && offset > start) {
            throw new UploadRefusedError(
              'offset-mismatch',
              `the log ${key} holds ${start} bytes; cannot append at byte ${offset}: resend from byte ${start}`,
              {
                expected: `an offset of at most ${start}`,
                found: String(offset),
                received: start,
              },
            );
          }
          const held =
            offset === undefined
              ? body
              : skipBytes(body instanceof Uint8Array ? toAsync([body]) : body, start - offset);
          return start + (await writeAll(handle, limited(held, maxLogSize - start, key), start));
        } finally {
          await handle.close();
        }
      });
    },

    seal(key) {
      return serialized(key, async () => {
        const path = livePath(key);
        const size = await liveSize(key);
        if (size === null) {
          const sealed = await storage.stat('log', storedKey(key));
          if (sealed !== null) return sealed;
          throw new StorageError('not-found', `there is no log ${key} to finish`);
        }
        const compressed = new PassThrough({ highWaterMark: 1 << 20 });
        const [stored] = await Promise.all([
          storage.put('log', storedKey(key), compressed),
          pipeline(
            createReadStream(path, { highWaterMark: 1 << 20 }),
            createCompressor(compression),
            compressed,
          ),
        ]);
        await unlink(path);
        return stored;
      });
    },

    async length(key) {
      const live = await liveSize(key);
      if (live !== null) return { bytes: live, sealed: false };
      const sealed = await readSealed(key, 0);
      if (sealed === null) return { bytes: 0, sealed: false };
      // Sealed logs do not record their length: count it (rare: the attempt has ended).
      let bytes = 0;
      for await (const chunk of sealed as AsyncIterable<Buffer>) bytes += chunk.length;
      return { bytes, sealed: true };
    },

    async read(key, start = 0) {
      const live = await liveSize(key);
      if (live !== null)
        return { live: true, stream: createReadStream(livePath(key), { start, highWaterMark: 1 << 20 }) };
      const sealed = await readSealed(key, start);
      return sealed === null ? null : { live: false, stream: sealed };
    },

    async readStored(key) {
      const object = await storage.stat('log', storedKey(key));
      const stream = object === null ? null : await storage.get('log', storedKey(key));
      return object === null || stream === null ? null : { compression, size: object.size, stream };
    },
  };
}

/**
 * Passes chunks on while they fit in `room` bytes; the first that does not is
 * a `too-large` refusal. A body that breaks off is an `interrupted` error (what
 * arrived before it is kept).
 */
async function* limited(
  body: AsyncIterable<Uint8Array> | Uint8Array,
  room: number,
  key: string,
): AsyncGenerator<Uint8Array> {
  const iterator = (body instanceof Uint8Array ? toAsync([body]) : body)[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new StorageError(
        'interrupted',
        `the output for log ${key} broke off; what arrived before is kept`,
        { cause: error },
      );
    }
    if (next.done) return;
    room -= next.value.length;
    if (room < 0)
      throw new UploadRefusedError('too-large', `the log ${key} is longer than this coordinator keeps`);
    yield next.value;
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an adapter: the readers take only AsyncIterable
async function* toAsync(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}
