// Drops the first `count` bytes of a byte stream: to read a compressed log
// from an offset of its uncompressed text, and to append a resent log body
// without the bytes the log already holds.

/** `chunks` without their first `count` bytes, the rest passed through without copies. */
export async function* skipBytes(
  chunks: AsyncIterable<Uint8Array>,
  count: number,
): AsyncGenerator<Uint8Array> {
  let left = count;
  for await (const chunk of chunks) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
