// Compression of uploaded NARs and decompression of fetched ones: gzip through
// node:zlib, zstd, lzip, xz and bzip2 through their programs (Node 20 has no
// zstd, and there is no npm lzip).
import { spawn } from 'node:child_process';
import { PassThrough, Duplex } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { AgentError } from './errors.js';

/** How the agent compresses what it uploads. */
export type UploadCompression = 'zstd' | 'lzip' | 'gzip' | 'none';

/** Every compression the agent accepts. */
export const UPLOAD_COMPRESSIONS: readonly UploadCompression[] = ['zstd', 'lzip', 'gzip', 'none'];

const PROGRAMS: Record<string, { compress?: string[]; decompress: string[]; program: string }> = {
  zstd: { program: 'zstd', compress: ['-c', '-q', '-3', '-'], decompress: ['-d', '-c', '-q', '-'] },
  lzip: { program: 'lzip', compress: ['-c', '-q', '-6'], decompress: ['-d', '-c', '-q'] },
  xz: { program: 'xz', decompress: ['-d', '-c', '-q'] },
  bzip2: { program: 'bzip2', decompress: ['-d', '-c', '-q'] },
};

/** A stream compressing what is written to it. */
export function createCompressor(compression: UploadCompression): Duplex {
  if (compression === 'none') return new PassThrough();
  if (compression === 'gzip') return createGzip({ level: 6 });
  const p = PROGRAMS[compression]!;
  return programFilter(p.program, p.compress!, `${compression} compression`);
}

/** A stream decompressing `compression` (`none`, `gzip`, `zstd`, `lzip`, `xz`, `bzip2`). */
export function createDecompressor(compression: string): Duplex {
  if (compression === 'none' || compression === '') return new PassThrough();
  if (compression === 'gzip') return createGunzip();
  const p = PROGRAMS[compression];
  if (p === undefined)
    throw new AgentError(
      'bad-compression',
      `cannot decompress ${JSON.stringify(compression)}: expected none, gzip, zstd, lzip, xz or bzip2`,
    );
  return programFilter(p.program, p.decompress, `${compression} decompression`);
}

/** A Duplex over a child process: writes go to its stdin, reads come from its stdout; a non-zero exit is an error. */
function programFilter(program: string, args: string[], what: string): Duplex {
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 2000) stderr += d;
  });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  const fail = (message: string, cause?: unknown): void => {
    duplex.destroy(new AgentError('program-failed', `${what} (${program}) failed: ${message}`, { cause }));
  };
  child.once('error', (error) => fail(error.message, error));
  child.stdin.on('error', () => undefined);
  child.once('close', (code, signal) => {
    if (code !== 0 && !duplex.destroyed)
      fail(signal === null ? `exit status ${code}: ${stderr.trim()}` : `killed by ${signal}`);
  });
  duplex.once('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  return duplex;
}
