// The legacy export format that guix-daemon's import-paths reads and
// export-path writes: per path u64 1, the NAR, a trailer; u64 0 at the end.
import { ByteReader, type ByteSource } from '../wire/byte-reader.js';
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { NarImport } from './build-daemon.js';
import { MAX_PATH, MAX_TEXT } from './constants.js';
import { DaemonProtocolError } from './errors.js';

/** Magic word between a NAR and its metadata ("NIXE" little-endian). */
export const EXPORT_MAGIC = 0x4558494e;

/** The metadata after each NAR of an export. */
export interface ExportTrailer {
  readonly path: string;
  readonly references: readonly string[];
  readonly deriver: string | null;
  /** The signature s-expression, when the export is signed. */
  readonly signature: string | null;
}

/** Encodes the metadata that follows a NAR in an export. */
export function encodeExportTrailer(info: NarImport): Uint8Array {
  const sig = info.guixSignature;
  return Buffer.concat([
    encodeU64(EXPORT_MAGIC),
    encodeBytes(info.path),
    encodeStringList(info.references),
    encodeBytes(info.deriver ?? ''),
    ...(sig === undefined ? [encodeU64(0)] : [encodeU64(1), encodeBytes(sig)]),
  ]);
}

/** Yields a one-path export stream (as import-paths reads it) around a NAR. */
export async function* exportStream(info: NarImport, nar: ByteSource): AsyncGenerator<Uint8Array> {
  yield encodeU64(1);
  for await (const chunk of nar) if (chunk.length > 0) yield chunk;
  yield encodeExportTrailer(info);
  yield encodeU64(0);
}

/** Reads the metadata after a NAR in an export; refuses a wrong magic word. */
export async function readExportTrailer(reader: ByteReader): Promise<ExportTrailer> {
  const at = reader.offset;
  const magic = await reader.readU64('export magic');
  if (magic !== EXPORT_MAGIC) {
    throw new DaemonProtocolError('bad-export', 'the export stream lacks its magic word after the NAR', {
      offset: at,
      expected: `0x${EXPORT_MAGIC.toString(16)}`,
      found: `0x${magic.toString(16)}`,
    });
  }
  const path = await reader.readString(MAX_PATH, 'exported path');
  const count = await reader.readU64('reference count');
  const references: string[] = [];
  for (let i = 0; i < count; i++) references.push(await reader.readString(MAX_PATH, 'reference'));
  const deriver = await reader.readString(MAX_PATH, 'deriver');
  const signed = await reader.readU64('signature flag');
  const signature = signed === 1 ? await reader.readString(MAX_TEXT, 'signature') : null;
  return { path, references, deriver: deriver || null, signature };
}
