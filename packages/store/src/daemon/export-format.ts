// The trailer that follows the NAR in an export-path reply (one path of the
// legacy export format, without the per-path marker); the export format
// itself is written and read by ../export/.
import { EXPORT_MAGIC } from '../export/export-format.js';
import type { ByteReader } from '../wire/byte-reader.js';
import { MAX_PATH, MAX_TEXT } from './constants.js';
import { DaemonProtocolError } from './errors.js';

export { EXPORT_MAGIC };

/** The metadata after the NAR of an exported path. */
export interface ExportTrailer {
  readonly path: string;
  readonly references: readonly string[];
  readonly deriver: string | null;
  /** The signature s-expression, when the export is signed. */
  readonly signature: string | null;
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
