// The 1 GiB NAR the upload benchmarks send: 16 files of 64 MiB, each half
// random and half repetitive text (zstd gets about 2:1), dumped to a NAR file
// with its hash and size.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { dumpNar, formatHash, makeHash } from '@gbc/store';

const MiB = 2 ** 20;
/** How many files the NAR holds. */
export const BIG_NAR_FILES = 16;
const FILE_BYTES = 64 * MiB;

/** A NAR file on disk with its NarHash and NarSize. */
export interface BigNar {
  readonly file: string;
  readonly narHash: string;
  readonly narSize: number;
}

/** Writes the benchmark NAR to `dir/big.nar` (its tree is made in `dir/tree` and removed). */
export async function makeBigNar(dir: string): Promise<BigNar> {
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  const text = Buffer.alloc(MiB / 2, 'gbc upload benchmark line of fairly repetitive text 0123456789\n');
  for (let f = 0; f < BIG_NAR_FILES; f++) {
    const out = createWriteStream(join(tree, `file-${f}`));
    for (let m = 0; m < FILE_BYTES / MiB; m++) {
      await write(out, randomBytes(MiB / 2));
      await write(out, text);
    }
    await end(out);
  }
  const file = join(dir, 'big.nar');
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  let narSize = 0;
  for await (const chunk of dumpNar(tree)) {
    hash.update(chunk);
    narSize += chunk.length;
    await write(out, chunk);
  }
  await end(out);
  rmSync(tree, { recursive: true, force: true });
  return { file, narHash: formatHash(makeHash('sha256', hash.digest())), narSize };
}

async function write(out: WriteStream, chunk: Uint8Array): Promise<void> {
  if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
}

function end(out: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}
