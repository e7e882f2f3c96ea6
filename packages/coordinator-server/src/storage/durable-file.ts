// Crash-safe file primitives: sync a file's data, then rename it over its
// final name, then sync the directory so the rename itself survives a crash.
import { randomBytes } from 'node:crypto';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Fsyncs a directory so that renames and creations inside it are durable. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A fresh temporary file name in `dir`, derived from `hint` (only for readability). */
export function temporaryPath(dir: string, hint: string): string {
  const name = basename(hint)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 60);
  return join(dir, `.tmp-${randomBytes(6).toString('hex')}-${name}`);
}

/**
 * Syncs `tempPath`'s data (through `handle` when given; not at all when the
 * caller says it is `synced`), renames it to `finalPath` (same filesystem) and
 * syncs the target directory: afterwards `finalPath` is complete or absent.
 */
export async function commitFile(
  tempPath: string,
  finalPath: string,
  options: { readonly handle?: FileHandle; readonly synced?: boolean } = {},
): Promise<void> {
  if (options.synced !== true) await syncFile(tempPath, options.handle);
  await rename(tempPath, finalPath);
  await syncDirectory(dirname(finalPath));
}

async function syncFile(path: string, handle: FileHandle | undefined): Promise<void> {
  if (handle !== undefined) return handle.sync();
  const h = await open(path, 'r+');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Writes every chunk of `source` to `handle` at `position` onwards (default 0),
 * awaiting each write (no buffering of the whole); returns the bytes written.
 */
export async function writeAll(
  handle: FileHandle,
  source: AsyncIterable<Uint8Array> | Uint8Array,
  position = 0,
): Promise<number> {
  let size = 0;
  const chunks = source instanceof Uint8Array ? [source] : source;
  for await (const chunk of chunks) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + size + done);
      done += bytesWritten;
    }
    size += chunk.length;
  }
  return size;
}
