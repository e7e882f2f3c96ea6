// Writes the legacy export format as a stream of chunks, from each path's
// metadata and a stream of its NAR (never held whole).
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/index.js';
import { dumpNar } from '../nar/index.js';
import type { ExportedPathInfo } from './export-format.js';
import { EXPORT_MAGIC } from './export-format.js';

/** One path to export: its metadata and its NAR as a stream. */
export interface ExportItem extends ExportedPathInfo {
  readonly nar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * Streams the export of `items` in the order given (put each path after its
 * references for `nix-store --import`): the same bytes as `nix-store --export`
 * for the same paths. The NAR streams are passed on as they are.
 */
export async function* writeExport(items: AsyncIterable<ExportItem> | Iterable<ExportItem>): AsyncGenerator<Uint8Array> {
  for await (const item of items) {
    yield encodeU64(1);
    yield* item.nar;
    yield Buffer.concat([
      encodeU64(EXPORT_MAGIC),
      encodeBytes(item.path),
      encodeStringList(item.references),
      encodeBytes(item.deriver ?? ''),
      ...(item.signature === undefined ? [encodeU64(0)] : [encodeU64(1), encodeBytes(item.signature)]),
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
