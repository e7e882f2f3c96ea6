// Test helpers shared by the storage and compression tests: real NARs made by
// nix-store, stream collection, and waiting for a condition without sleeping blindly.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** Reads a whole (small, test-sized) stream into one Buffer. */
export async function collect(stream: Readable | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

/**
 * Makes a real NAR with `nix-store --dump` of a directory built under `dir`:
 * a compressible text file, `randomSize` random bytes, a symlink and an executable.
 */
export function makeNar(dir: string, randomSize = 256 * 1024): Buffer {
  const root = join(dir, 'nar-source');
  mkdirSync(join(root, 'sub'), { recursive: true });
  writeFileSync(join(root, 'text'), 'hello from gbc\n'.repeat(20_000));
  writeFileSync(join(root, 'sub', 'random'), randomBytes(randomSize));
  writeFileSync(join(root, 'sub', 'run'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  execFileSync('ln', ['-s', 'sub/run', join(root, 'link')]);
  return execFileSync('nix-store', ['--dump', root], { maxBuffer: 1 << 30 });
}

/** Compresses `data` with the real program (`zstd`, `lzip`, `gzip`), as an agent or oracle would. */
export function compressWithProgram(program: 'zstd' | 'lzip' | 'gzip', data: Uint8Array): Buffer {
  return execFileSync(program, ['-c', '-q'], { input: data, maxBuffer: 1 << 30 });
}

/** Decompresses `data` with the real program. */
export function decompressWithProgram(program: 'zstd' | 'lzip' | 'gzip', data: Uint8Array): Buffer {
  return execFileSync(program, ['-d', '-c', '-q'], { input: data, maxBuffer: 1 << 30 });
}

/** Waits until `condition` holds, checking every 10 ms, failing after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
