// Storage in a local data directory: `<root>/nar/<key>`, `<root>/log/<key>`,
// and `<root>/scratch/` for temporary files on the same filesystem, so that
// every object appears under its final name by an atomic rename, complete.
import { copyFile, mkdir, open, opendir, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { StorageError } from '../errors.js';
import { commitFile, syncDirectory, temporaryPath, writeAll } from './durable-file.js';
import {
  checkStorageKey,
  type ByteRange,
  type Storage,
  type StorageArea,
  type StorageSource,
  type StoredObject,
} from './storage.js';

const READ_CHUNK = 1 << 20;

/**
 * Opens (creating if needed) a data-directory Storage at `root`; removes
 * temporary files left by a crash. `readOnly`: only opens it (a helper process
 * of the binary cache, cache-process.ts) — nothing is created or removed, the
 * temporary files being another process's uploads in progress.
 */
export async function createDataDirStorage(
  root: string,
  options: { readonly readOnly?: boolean } = {},
): Promise<Storage> {
  const scratchDir = join(root, 'scratch');
  const tmpDir = join(scratchDir, 'tmp');
  if (options.readOnly !== true) {
    // Created private (0700): partial uploads and logs are no one else's to read.
    await mkdir(root, { recursive: true, mode: 0o700 });
    for (const dir of [join(root, 'nar'), join(root, 'log'), tmpDir])
      await mkdir(dir, { recursive: true, mode: 0o700 });
    // Only this directory's own temporary files: partial uploads live beside it and survive.
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  }

  const pathOf = (area: StorageArea, key: string): string => join(root, area, checkStorageKey(key));

  async function statOf(area: StorageArea, key: string): Promise<StoredObject | null> {
    try {
      const s = await stat(pathOf(area, key));
      return s.isFile() ? { area, key, size: s.size, modifiedAt: s.mtime } : null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw io(`reading metadata of ${area} ${key}`, error);
    }
  }

  async function prepareParent(finalPath: string): Promise<void> {
    const created = await mkdir(dirname(finalPath), { recursive: true });
    if (created !== undefined) await syncDirectory(dirname(created));
  }

  return {
    scratchDir,

    async put(area, key, source: StorageSource) {
      const finalPath = pathOf(area, key);
      const temp = temporaryPath(tmpDir, key);
      const handle = await open(temp, 'wx');
      try {
        await writeAll(handle, source);
        await prepareParent(finalPath);
        await commitFile(temp, finalPath, { handle });
      } catch (error) {
        await unlink(temp).catch(() => {});
        throw error instanceof StorageError ? error : io(`storing ${area} ${key}`, error);
      } finally {
        await handle.close();
      }
      return (await statOf(area, key))!;
    },

    async putFile(area, key, localPath, options = {}) {
      const finalPath = pathOf(area, key);
      await prepareParent(finalPath);
      try {
        await commitFile(localPath, finalPath, options);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV')
          throw io(`moving ${localPath} to ${area} ${key}`, error);
        // Another filesystem: copy next to the target, then the atomic rename.
        const temp = temporaryPath(tmpDir, key);
        await copyFile(localPath, temp);
        await commitFile(temp, finalPath);
        await unlink(localPath);
      }
      return (await statOf(area, key))!;
    },

    async get(area, key, range?: ByteRange): Promise<Readable | null> {
      let handle;
      try {
        handle = await open(pathOf(area, key), 'r');
      } catch (error) {
        if (isNotFound(error)) return null;
        throw io(`opening ${area} ${key}`, error);
      }
      const options = { highWaterMark: READ_CHUNK, start: range?.start ?? 0 } as {
        highWaterMark: number;
        start: number;
        end?: number;
      };
      if (range?.end !== undefined) options.end = range.end - 1;
      return handle.createReadStream(options);
    },

    stat: statOf,

    localPath: pathOf,

    async delete(area, key) {
      try {
        await unlink(pathOf(area, key));
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        throw io(`deleting ${area} ${key}`, error);
      }
    },

    async *list(area, prefix = '') {
      const base = join(root, area);
      for await (const path of walk(base)) {
        const key = relative(base, path).split(sep).join('/');
        if (!key.startsWith(prefix)) continue;
        const object = await statOf(area, key);
        if (object !== null) yield object;
      }
    },
  };
}

async function* walk(dir: string): AsyncGenerator<string> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function io(what: string, cause: unknown): StorageError {
  return new StorageError('io', `${what} failed: ${(cause as Error).message}`, { cause });
}
