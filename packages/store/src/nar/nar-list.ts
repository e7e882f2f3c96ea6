// Validates a whole NAR without writing anything and lists its nodes.
import { ByteReader, type ByteSource } from '../wire/index.js';
import { parseNar } from './nar-parser.js';

/** One node of a listed NAR (contents are not kept). */
export interface NarListEntry {
  /** Path relative to the root, components joined by "/"; empty for the root. */
  readonly path: Uint8Array;
  readonly type: 'regular' | 'symlink' | 'directory';
  /** Regular files only: size in bytes. */
  readonly size?: number;
  /** Regular files only. */
  readonly executable?: boolean;
  /** Symlinks only. */
  readonly target?: Uint8Array;
}

/** Options of `listNar`. */
export interface ListNarOptions {
  /** The NAR must be the whole input (default true). */
  readonly wholeInput?: boolean;
}

/**
 * Reads a whole NAR, checking every rule of the format, and lists its nodes
 * in archive order. Memory grows with the number of nodes, not with file sizes.
 */
export async function listNar(
  input: ByteReader | ByteSource,
  options: ListNarOptions = {},
): Promise<NarListEntry[]> {
  const reader = input instanceof ByteReader ? input : new ByteReader(input);
  const out: NarListEntry[] = [];
  for await (const entry of parseNar(reader, { wholeInput: options.wholeInput ?? true })) {
    if (entry.kind === 'regular')
      out.push({ path: entry.path, type: 'regular', size: entry.size, executable: entry.executable });
    else if (entry.kind === 'symlink') out.push({ path: entry.path, type: 'symlink', target: entry.target });
    else out.push({ path: entry.path, type: 'directory' });
  }
  return out;
}
