// The on-disk state of resumable uploads, recoverable from the directory
// alone after a crash: `<id>.part` holds the compressed bytes received so far
// (its size is the resume offset) and `<id>.json` what the upload declared.
// Neither is synced while it grows: a crash that loses them only makes the
// next attempt start over from byte 0 (the agent keeps its bytes), and the
// finished NAR is synced before it moves into storage.
import { existsSync } from 'node:fs';
import { readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeBase16, type Hash } from '@gbc/store';
import { isCompression, type Compression } from '../compression/compression.js';
import { UploadRefusedError } from '../errors.js';
import { temporaryPath } from './durable-file.js';

/** What an upload declared when it started; resuming requires the same. */
export interface UploadManifest {
  readonly key: string;
  readonly compression: Compression;
  /** sha256 of the uncompressed NAR, base16. */
  readonly narHash: string;
  readonly narSize: number;
  /** The storage's state of a staged write (an object store's multipart upload), to resume or abort it. */
  readonly staged?: string;
}

/** A partial upload as found in the directory. */
export interface UploadStatus extends UploadManifest {
  readonly uploadId: string;
  /** Compressed bytes kept so far: where the client resumes. */
  readonly received: number;
  readonly updatedAt: Date;
}

const ID = /^[A-Za-z0-9_=+-][A-Za-z0-9._=+-]{0,199}$/;

/** Refuses upload ids that are not plain file names; returns the id. */
export function checkUploadId(uploadId: string): string {
  if (!ID.test(uploadId)) {
    throw new UploadRefusedError('invalid-key', 'invalid upload id', {
      expected: '1-200 characters of [A-Za-z0-9._=+-], not starting with "."',
      found: JSON.stringify(uploadId.slice(0, 80)),
    });
  }
  return uploadId;
}

/** Paths of one upload's files in `dir`. */
export function uploadPaths(dir: string, uploadId: string): { part: string; manifest: string } {
  checkUploadId(uploadId);
  return { part: join(dir, `${uploadId}.part`), manifest: join(dir, `${uploadId}.json`) };
}

/** Builds the manifest of an upload from its declarations. */
export function makeManifest(
  key: string,
  compression: Compression,
  narHash: Hash,
  narSize: number,
): UploadManifest {
  return { key, compression, narHash: encodeBase16(narHash.digest), narSize };
}

/** True when two manifests declare the same upload. */
export function sameManifest(a: UploadManifest, b: UploadManifest): boolean {
  return (
    a.key === b.key && a.compression === b.compression && a.narHash === b.narHash && a.narSize === b.narSize
  );
}

/** Writes an upload's manifest atomically (whole or absent; not synced, see the file header). */
export async function writeManifest(dir: string, uploadId: string, manifest: UploadManifest): Promise<void> {
  const temp = temporaryPath(dir, `${uploadId}.json`);
  await writeFile(temp, JSON.stringify(manifest));
  await rename(temp, uploadPaths(dir, uploadId).manifest);
}

/** Reads an upload's state, or null when there is none (or only debris of a finished one). */
export async function readUploadStatus(dir: string, uploadId: string): Promise<UploadStatus | null> {
  const paths = uploadPaths(dir, uploadId);
  let manifest: UploadManifest;
  try {
    manifest = parseManifest(JSON.parse(await readFile(paths.manifest, 'utf8')));
  } catch {
    return null;
  }
  try {
    const s = await stat(paths.part);
    return { ...manifest, uploadId, received: s.size, updatedAt: s.mtime };
  } catch {
    return null;
  }
}

/** Every partial upload in `dir`. */
export async function listUploads(dir: string): Promise<UploadStatus[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: UploadStatus[] = [];
  for (const name of names) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const status = await readUploadStatus(dir, name.slice(0, -'.json'.length));
    if (status !== null) out.push(status);
  }
  return out;
}

/**
 * Removes an upload's files; true when something was there. Each is looked for
 * first (a synchronous stat, no error object): most calls find none, as every
 * small upload asks to clear what an earlier attempt might have left.
 */
export async function removeUpload(dir: string, uploadId: string): Promise<boolean> {
  const paths = uploadPaths(dir, uploadId);
  const there = [paths.part, paths.manifest].filter((p) => existsSync(p));
  const results = await Promise.all(
    there.map((p) =>
      unlink(p).then(
        () => true,
        () => false,
      ),
    ),
  );
  return results.some(Boolean);
}

function parseManifest(value: unknown): UploadManifest {
  const m = value as Partial<UploadManifest> | null;
  if (
    m === null ||
    typeof m.key !== 'string' ||
    typeof m.compression !== 'string' ||
    !isCompression(m.compression) ||
    typeof m.narHash !== 'string' ||
    typeof m.narSize !== 'number'
  ) {
    throw new Error('not an upload manifest');
  }
  return {
    key: m.key,
    compression: m.compression,
    narHash: m.narHash,
    narSize: m.narSize,
    ...(typeof m.staged === 'string' ? { staged: m.staged } : {}),
  };
}

/** The staged-write state an upload's manifest records, or null (no manifest, or none recorded). */
export async function readStagedState(dir: string, uploadId: string): Promise<string | null> {
  const path = uploadPaths(dir, uploadId).manifest;
  if (!existsSync(path)) return null;
  try {
    return parseManifest(JSON.parse(await readFile(path, 'utf8'))).staged ?? null;
  } catch {
    return null;
  }
}

/** Removes manifest temporaries a crash left in `dir` (never `.part` files: those are resumable). */
export async function removeTemporaryFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith('.tmp-')) await rm(join(dir, name), { force: true });
  }
}
