// Writes the legacy export format as a stream of chunks, from each path's
// metadata and a stream of its NAR (never held whole).
import { Hasher } from '../hash/index.js';
import { dumpNar } from '../nar/index.js';
import { encodeBytes, encodeU64 } from '../wire/index.js';
import type { ExportedPathInfo } from './export-format.js';
import { exportSignedTrailer } from './export-signature.js';

/** One path to export: its metadata and its NAR as a stream. */
export interface ExportItem extends ExportedPathInfo {
  readonly nar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /**
   * Signs the path once its NAR has passed: called with the sha256 of the NAR
   * and the trailer up to the deriver (see exportSignedHash), it returns the
   * signature to write. Takes precedence over `signature`; the NAR is hashed
   * as it streams, never held.
   */
  readonly sign?: (signedHash: Uint8Array) => Uint8Array | string;
}

/**
 * Streams the export of `items` in the order given (put each path after its
 * references for `nix-store --import`): the same bytes as `nix-store --export`
 * for the same paths. The NAR streams are passed on as they are.
 */
export async function* writeExport(
  items: AsyncIterable<ExportItem> | Iterable<ExportItem>,
): AsyncGenerator<Uint8Array> {
  for await (const item of items) {
    yield encodeU64(1);
    const hasher = item.sign === undefined ? undefined : new Hasher('sha256');
    for await (const chunk of item.nar) {
      hasher?.update(chunk);
      yield chunk;
    }
    const trailer = exportSignedTrailer(item);
    const signature =
      hasher === undefined || item.sign === undefined
        ? item.signature
        : item.sign(hasher.update(trailer).digest());
    yield Buffer.concat([
      trailer,
      ...(signature === undefined ? [encodeU64(0)] : [encodeU64(1), encodeBytes(signature)]),
    ]);
  }
  yield encodeU64(0);
}

/**
 * An export item whose NAR is dumped from the file system, at `fsPath`
 * (default: the store path itself; give another for a store under another root).
 */
export function exportItemFromFs(info: ExportedPathInfo, fsPath: string = info.path): ExportItem {
  return { ...info, nar: dumpNar(fsPath) };
}
