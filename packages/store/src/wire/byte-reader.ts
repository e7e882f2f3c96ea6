// A pull reader over a stream of byte chunks, for the length-prefixed framing
// that NAR, the export format and the daemon protocol share (u64 little-endian
// integers; strings as a length, the bytes, zero padding to 8).
import { WireError } from '../errors.js';

/** Anything that yields byte chunks: a Node Readable, a socket, an async generator. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const EMPTY = new Uint8Array(0);

/**
 * Reads exact byte counts from a chunk stream, buffering only what one read
 * needs. `offset` counts the bytes consumed so far (for error messages).
 */
export class ByteReader {
  #iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  #done = false;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(source: ByteSource) {
    this.#iterator =
      Symbol.asyncIterator in source
        ? source[Symbol.asyncIterator]()
        : (source as Iterable<Uint8Array>)[Symbol.iterator]();
  }

  /** Ensures unread bytes are buffered; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#chunk.length) {
      if (this.#done) return false;
      const next = await this.#iterator.next();
      if (next.done) {
        this.#done = true;
        return false;
      }
      this.#chunk = next.value;
      this.#pos = 0;
    }
    return true;
  }

  /** Takes up to `max` bytes from the current chunk without copying; empty at the end. */
  async readSome(max: number): Promise<Uint8Array> {
    if (max <= 0 || !(await this.#fill())) return EMPTY;
    const n = Math.min(max, this.#chunk.length - this.#pos);
    const out = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.offset += n;
    return out;
  }

  /**
   * Takes exactly `n` bytes if the current chunk already holds them, without
   * waiting (a view, no copy); otherwise consumes nothing and returns undefined.
   * Lets parsers skip a promise per token when data is buffered.
   */
  readBuffered(n: number): Uint8Array | undefined {
    if (n > this.#chunk.length - this.#pos) return undefined;
    const out = this.#chunk.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    this.offset += n;
    return out;
  }

  /**
   * The bytes already buffered and not yet read (a view of the current chunk,
   * maybe empty), for a parser that decodes whole messages synchronously
   * when they are there; `consume` then marks what it decoded as read.
   */
  buffered(): Uint8Array {
    return this.#chunk.subarray(this.#pos);
  }

  /** Marks `n` of the `buffered()` bytes read. */
  consume(n: number): void {
    if (n < 0 || n > this.#chunk.length - this.#pos)
      throw new RangeError(`cannot consume ${n} of ${this.#chunk.length - this.#pos} buffered bytes`);
    this.#pos += n;
    this.offset += n;
  }

  /** Reads exactly `n` bytes; a short stream is a `truncated` WireError. */
  async readExact(n: number, what = 'data'): Promise<Uint8Array> {
    const first = await this.readSome(n);
    if (first.length === n) return first;
    const out = new Uint8Array(n);
    out.set(first);
    let have = first.length;
    while (have < n) {
      const part = await this.readSome(n - have);
      if (part.length === 0) {
        throw new WireError('truncated', `stream ended inside ${what}`, {
          offset: this.offset,
          expected: `${n - have} more bytes`,
          found: 'end of stream',
        });
      }
      out.set(part, have);
      have += part.length;
    }
    return out;
  }

  /** Yields exactly `n` bytes as chunks (no copies), for streaming large contents. */
  async *readStream(n: number, what = 'data'): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const part = await this.readSome(Math.min(left, 1 << 20));
      if (part.length === 0) {
        throw new WireError('truncated', `stream ended inside ${what}`, {
          offset: this.offset,
          expected: `${left} more bytes`,
          found: 'end of stream',
        });
      }
      left -= part.length;
      yield part;
    }
  }

  /** Reads a u64 little-endian integer; refuses values past Number.MAX_SAFE_INTEGER. */
  async readU64(what = 'integer'): Promise<number> {
    const at = this.offset;
    const b = await this.readExact(8, what);
    const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
    if (hi > 0x1fffff) {
      throw new WireError('integer-too-large', `${what} does not fit in a safe integer`, {
        offset: at,
        expected: `at most ${Number.MAX_SAFE_INTEGER}`,
        found: `0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`,
      });
    }
    return hi * 0x1_0000_0000 + lo;
  }

  /** Reads and checks the zero padding after `length` bytes of a string. */
  async readPadding(length: number, what = 'string'): Promise<void> {
    const pad = paddingOf(length);
    if (pad === 0) return;
    const at = this.offset;
    const bytes = await this.readExact(pad, `${what} padding`);
    if (bytes.some((x) => x !== 0)) {
      throw new WireError('nonzero-padding', `padding after ${what} is not zero`, {
        offset: at,
        expected: 'zero bytes',
      });
    }
  }

  /** Reads a length-prefixed, padded byte string of at most `max` bytes. */
  async readBytes(max: number, what = 'string'): Promise<Uint8Array> {
    const at = this.offset;
    const length = await this.readU64(`${what} length`);
    if (length > max) {
      throw new WireError('string-too-long', `${what} is longer than allowed`, {
        offset: at,
        expected: `at most ${max} bytes`,
        found: `${length} bytes`,
      });
    }
    const bytes = await this.readExact(length, what);
    await this.readPadding(length, what);
    return bytes;
  }

  /** Reads a length-prefixed string as UTF-8 text (at most `max` bytes). */
  async readString(max: number, what = 'string'): Promise<string> {
    return Buffer.from(await this.readBytes(max, what)).toString('utf8');
  }

  /** True when every byte of the stream has been consumed. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }
}

/** Number of zero bytes that pad `length` bytes to a multiple of 8. */
export function paddingOf(length: number): number {
  return (8 - (length % 8)) % 8;
}
