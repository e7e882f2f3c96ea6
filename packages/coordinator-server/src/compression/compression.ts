// The compressions a NAR or a log may travel and be stored in, with their
// names as they appear in narinfo files and `nar/<compression>/…` URLs.
import { CompressionError } from '../errors.js';

/** Compressions gbc reads and writes (Guix publish's set; bzip2/xz are not supported). */
export type Compression = 'none' | 'gzip' | 'zstd' | 'lzip';

/** Every supported compression, in the order of preference for serving. */
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'lzip', 'gzip', 'none'];

const EXTENSIONS: Readonly<Record<Compression, string>> = {
  none: '',
  gzip: '.gz',
  zstd: '.zst',
  lzip: '.lz',
};

/** True for the name of a supported compression. */
export function isCompression(name: string): name is Compression {
  return (COMPRESSIONS as readonly string[]).includes(name);
}

/** Parses a compression name (case-insensitive); refuses anything else with `unknown-compression`. */
export function parseCompression(name: string): Compression {
  const lower = name.trim().toLowerCase();
  if (isCompression(lower)) return lower;
  throw new CompressionError('unknown-compression', 'unsupported compression', {
    expected: `one of ${COMPRESSIONS.join(', ')}`,
    found: JSON.stringify(name.slice(0, 40)),
  });
}

/** The usual file-name extension of a compression (`.zst`, `.lz`, `.gz`, or '' for none). */
export function compressionExtension(compression: Compression): string {
  return EXTENSIONS[compression];
}
