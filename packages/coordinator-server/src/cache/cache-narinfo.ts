// The narinfo of an output the coordinator holds, from its output metadata:
// Nix layout (one file, signed when a key is configured) or Guix layout (one
// URL group per stored compression, signed when a Guix key is configured). NAR URLs are `nar/<compression>/<basename>`.
import type { OutputMetadata, StoredFile } from '@gbc/datastore';
import { signGuixNarInfo, signNarInfo, writeNarInfo, type NarFile, type NarInfo } from '@gbc/store';
import { isCompression, type Compression } from '../compression/compression.js';
import type { CacheFlavour, ResolvedCacheOptions } from './cache-options.js';

/** The URL (relative to the cache root) of a stored NAR file. */
export function narUrl(storePath: string, compression: string): string {
  return `nar/${compression}/${basename(storePath)}`;
}

/** The stored files the cache can serve, most preferred first (unknown compressions dropped). */
export function servableFiles(meta: OutputMetadata, preference: readonly Compression[]): StoredFile[] {
  const rank = (c: string) => (isCompression(c) ? preference.indexOf(c) : -1);
  return meta.files
    .filter((f) => rank(f.compression) >= 0)
    .sort((a, b) => rank(a.compression) - rank(b.compression));
}

/** Writes the narinfo text of `meta` in `flavour`, or null when no servable file is stored. */
export function narInfoText(
  meta: OutputMetadata,
  options: ResolvedCacheOptions,
  flavour: CacheFlavour,
): string | null {
  const files = servableFiles(meta, options.compressionPreference);
  const first = files[0];
  if (first === undefined) return null;
  const base = {
    storePath: meta.storePath,
    narHash: meta.narHash,
    narSize: meta.narSize,
    references: [...meta.references].map(basename).sort(),
    ...(meta.deriver === null ? {} : { deriver: basename(meta.deriver) }),
    sigs: [],
  };
  if (flavour === 'guix') {
    const info: NarInfo = { ...base, flavour: 'guix', files: files.map((f) => toNarFile(meta, f, false)) };
    const key = options.guixSigningKey;
    return writeNarInfo(key === null ? info : signGuixNarInfo(info, key, options.guixSigningHost));
  }
  let info: NarInfo = { ...base, flavour: 'nix', files: [toNarFile(meta, first, true)] };
  if (options.signingKey !== null) info = signNarInfo(info, options.signingKey);
  return writeNarInfo(info);
}

function toNarFile(meta: OutputMetadata, f: StoredFile, withHash: boolean): NarFile {
  return {
    url: narUrl(meta.storePath, f.compression),
    compression: f.compression,
    ...(withHash && f.fileHash !== null ? { fileHash: f.fileHash } : {}),
    fileSize: f.fileSize,
  };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
