// The contents of a NAR that holds exactly one regular file — what a `.drv`
// (or any text file added to the store) is. Used by the coordinator and the
// agent when they take a derivation out of a substitute's NAR.
import { ByteReader } from '../wire/index.js';
import { NarError } from './errors.js';
import { parseNar } from './nar-parser.js';

/**
 * The bytes of the single regular file (executable or not) that `nar` is.
 * Throws NarError: `not-a-regular-file` for a directory or a symlink, or the
 * parser's own code for a malformed archive (truncated, trailing bytes, …).
 */
export async function regularFileOfNar(nar: Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const entry of parseNar(new ByteReader([nar]))) {
    if (entry.kind !== 'regular') {
      throw new NarError('not-a-regular-file', `the NAR holds a ${entry.kind}, not one regular file`, {
        found: entry.kind,
        expected: 'regular',
      });
    }
    for await (const chunk of entry.contents) parts.push(Uint8Array.from(chunk));
  }
  return Buffer.concat(parts);
}
