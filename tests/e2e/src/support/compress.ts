// Compresses bytes the way an agent streams a NAR, with the real programs
// (gzip, zstd, lzip), so the coordinator's decoders meet their real output.
import { execFileSync } from 'node:child_process';

/** The upload compressions. */
export const COMPRESSIONS = ['none', 'gzip', 'zstd', 'lzip'] as const;
/** One of {@link COMPRESSIONS}. */
export type UploadCompression = (typeof COMPRESSIONS)[number];

const programs: Record<Exclude<UploadCompression, 'none'>, [string, string[]]> = {
  gzip: ['gzip', ['-c', '-6']],
  zstd: ['zstd', ['-c', '-q', '-3']],
  lzip: ['lzip', ['-c', '-6']],
};

/** `data` compressed with `compression` (a copy for `none`). */
export function compressWith(compression: UploadCompression, data: Uint8Array): Uint8Array {
  if (compression === 'none') return data.slice();
  const [cmd, args] = programs[compression];
  return new Uint8Array(execFileSync(cmd, args, { input: data, maxBuffer: 1 << 30 }));
}

/** `data` decompressed from `compression` by the same programs. */
export function decompressWith(compression: UploadCompression, data: Uint8Array): Uint8Array {
  if (compression === 'none') return data.slice();
  const [cmd] = programs[compression];
  return new Uint8Array(execFileSync(cmd, ['-d', '-c'], { input: data, maxBuffer: 1 << 30 }));
}
