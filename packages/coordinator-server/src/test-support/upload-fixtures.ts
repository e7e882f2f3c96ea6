// Test helpers for uploads: declared hashes of real NARs, chunked bodies,
// bodies that break off, and a recursive listing of a data directory.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { formatHash, makeHash } from '@gbc/store';

/** `sha256:<nix32>` of `data`, as an agent declares a NarHash. */
export function narHashOf(data: Uint8Array): string {
  return formatHash(makeHash('sha256', createHash('sha256').update(data).digest()));
}

/** Splits `data` into chunks of `size` bytes (views, no copies). */
export function chunksOf(data: Uint8Array, size = 64 * 1024): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** An async body that yields `data` in chunks. */
// eslint-disable-next-line @typescript-eslint/require-await -- stands in for a socket: uploads take only AsyncIterable
export async function* bodyOf(data: Uint8Array, size?: number): AsyncGenerator<Uint8Array> {
  for (const chunk of chunksOf(data, size)) yield chunk;
}

/** A body that yields the first `cut` bytes of `data`, then fails like a reset connection. */
export async function* brokenBody(data: Uint8Array, cut: number): AsyncGenerator<Uint8Array> {
  yield* bodyOf(data.subarray(0, cut));
  throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

/** Every regular file under `root`, relative paths, sorted. */
export function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(root, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}
