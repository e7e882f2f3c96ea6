// The hash an export signature covers: sha256 over a path's NAR and its
// trailer up to the deriver (`u64 0x4558494e`, path, references, deriver),
// which guix-daemon checks on import-paths and signs on export-path.
import { Hasher } from '../hash/index.js';
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/index.js';
import type { ExportedPathInfo } from './export-format.js';
import { EXPORT_MAGIC } from './export-format.js';

/** The trailer bytes after a path's NAR that the signature covers (everything before the signature flag). */
export function exportSignedTrailer(info: Omit<ExportedPathInfo, 'signature'>): Uint8Array {
  return Buffer.concat([
    encodeU64(EXPORT_MAGIC),
    encodeBytes(info.path),
    encodeStringList(info.references),
    encodeBytes(info.deriver ?? ''),
  ]);
}

/**
 * The sha256 (32 bytes) an export signature covers, from the whole NAR in
 * memory; streams use a Hasher over the NAR then {@link exportSignedTrailer}.
 */
export function exportSignedHash(
  nar: Uint8Array | readonly Uint8Array[],
  info: Omit<ExportedPathInfo, 'signature'>,
): Uint8Array {
  const hasher = new Hasher('sha256');
  for (const chunk of nar instanceof Uint8Array ? [nar] : nar) hasher.update(chunk);
  return hasher.update(exportSignedTrailer(info)).digest();
}
