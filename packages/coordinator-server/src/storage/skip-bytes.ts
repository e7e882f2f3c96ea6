// A Transform that drops the first `count` bytes of a stream (to read a
// compressed log from an offset of its uncompressed text).
import { Transform } from 'node:stream';

/** Drops the first `count` bytes, passing the rest through without copies. */
export function skipBytes(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left >= chunk.length) {
        left -= chunk.length;
        callback();
        return;
      }
      const rest = left > 0 ? chunk.subarray(left) : chunk;
      left = 0;
      callback(null, rest);
    },
  });
}
