// Consumes exactly one NAR from a reader that carries more data after it
// (a daemon's NarFromPath or export stream), validating it, and yields the
// NAR's bytes for the caller to store, hash or forward.
import { ByteReader, type ByteSource } from '../wire/index.js';
import { NarEncoder } from './nar-encoder.js';
import { parseNar } from './nar-parser.js';

/** Options of `copyNar`. */
export interface CopyNarOptions {
  /** The NAR must be the whole input (default false: the reader stops right after it). */
  readonly wholeInput?: boolean;
  /** Size of the chunks small nodes are batched into, in bytes (default 256 KiB). */
  readonly batchBytes?: number;
}

/**
 * Reads one NAR from `input` and yields its bytes, byte for byte as consumed.
 * The bytes are re-encoded from the parsed nodes rather than echoed, which is
 * exact because a NAR that passes validation has one encoding only (fixed
 * tokens, zero padding, sorted unique names). File contents pass through
 * without copies when large. After the generator finishes, `input` (when it
 * is a ByteReader) stands on the first byte after the NAR; a broken NAR makes
 * it throw a NarError, possibly after some bytes were yielded, so consumers
 * must treat what they got as void on error.
 */
export async function* copyNar(
  input: ByteReader | ByteSource,
  options: CopyNarOptions = {},
): AsyncGenerator<Uint8Array> {
  const reader = input instanceof ByteReader ? input : new ByteReader(input);
  const encoder = new NarEncoder(options.batchBytes);
  for await (const entry of parseNar(reader, { wholeInput: options.wholeInput ?? false })) {
    if (entry.kind === 'directory') {
      encoder.directory(entry.depth, entry.name);
    } else if (entry.kind === 'symlink') {
      encoder.symlink(entry.depth, entry.name, entry.target);
    } else {
      encoder.regular(entry.depth, entry.name, entry.executable, entry.size);
      for await (const part of entry.contents) {
        encoder.contents(entry.depth, part);
        yield* encoder.take();
      }
    }
    yield* encoder.take();
  }
  encoder.finish();
  yield* encoder.take(true);
}
