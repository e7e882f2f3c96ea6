// The contents of one regular file inside a NAR being parsed: a one-shot
// stream of exactly `size` bytes taken from the shared reader, which the
// parser skips over if the consumer did not read it all.
import type { ByteReader } from '../wire/index.js';
import { NarError } from './errors.js';

/** A regular file's bytes, streamed from the archive (iterate at most once, before the next entry). */
export class NarContents implements AsyncIterable<Uint8Array> {
  readonly #reader: ByteReader;
  #left: number;
  #started = false;

  /** Internal: made by the parser for a file of `size` bytes at the reader's position. */
  constructor(reader: ByteReader, size: number) {
    this.#reader = reader;
    this.#left = size;
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.#left;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.#started)
      throw new NarError('contents-reread', 'the contents of a NAR file can be read only once');
    this.#started = true;
    while (this.#left > 0) yield await this.#next();
  }

  /** Internal: consumes what the consumer left, so the parser can go on. */
  async discard(): Promise<void> {
    while (this.#left > 0) await this.#next();
  }

  async #next(): Promise<Uint8Array> {
    const part = await this.#reader.readSome(Math.min(this.#left, 1 << 20));
    if (part.length === 0) {
      throw new NarError('truncated', 'the NAR ended inside a file', {
        offset: this.#reader.offset,
        expected: `${this.#left} more bytes`,
        found: 'end of stream',
      });
    }
    this.#left -= part.length;
    return part;
  }
}
