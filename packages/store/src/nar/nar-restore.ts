// Restores a NAR into a directory that does not exist yet. Nothing is written
// outside it: every node is created fresh (O_EXCL, O_NOFOLLOW, mkdir and
// symlink fail on an existing name) inside a directory this restore created,
// names cannot hold "/" or be "..", and duplicates are refused by the parser.
import { closeSync, constants, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { ByteReader, type ByteSource } from '../wire/index.js';
import { NarError } from './errors.js';
import { parseNar, type NarRegular } from './nar-parser.js';
import { removeTree } from './remove-tree.js';

/** Options of `restoreNar`. */
export interface RestoreNarOptions {
  /** The NAR must be the whole input (default true). */
  readonly wholeInput?: boolean;
}

const SLASH = Buffer.from('/');
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Restores the NAR read from `input` at `target` (a directory, file or
 * symlink, as the NAR's root is), whose parent must exist and which must not.
 * Executables get mode 0777 and other files 0666, less the umask. On any
 * error what was written is removed and the error (a NarError for a broken
 * NAR or an existing target; a Node error for I/O) is thrown.
 */
export async function restoreNar(
  input: ByteReader | ByteSource,
  target: string | Uint8Array,
  options: RestoreNarOptions = {},
): Promise<void> {
  const reader = input instanceof ByteReader ? input : new ByteReader(input);
  const root = Buffer.from(target);
  // Set only once the root exists and is ours: on error, only what we made is removed.
  let created = false;
  try {
    for await (const entry of parseNar(reader, { wholeInput: options.wholeInput ?? true })) {
      const path = entry.depth === 0 ? root : Buffer.concat([root, SLASH, entry.path]);
      if (entry.kind === 'directory') create(entry.depth, path, () => mkdirSync(path, 0o777));
      else if (entry.kind === 'symlink')
        create(entry.depth, path, () => symlinkSync(asBuffer(entry.target), path));
      else await writeFile(entry, path, () => (created = true));
      if (entry.depth === 0) created = true;
    }
  } catch (error) {
    if (created) removeTree(root);
    if ((error as NodeJS.ErrnoException).code === 'ENAMETOOLONG') {
      throw new NarError(
        'path-too-long',
        'a path of the archive is too long for the file system under this target',
        { field: root.toString('latin1'), cause: error },
      );
    }
    throw error;
  }
}

/** Runs `make`; for the root node, "it exists already" becomes a NarError. */
function create(depth: number, path: Buffer, make: () => void): void {
  try {
    make();
  } catch (error) {
    if (depth === 0 && (error as NodeJS.ErrnoException).code === 'EEXIST') throw targetExists(path, error);
    throw error;
  }
}

/** Creates a file that must not exist, then streams its contents in; `onCreated` runs once it exists. */
async function writeFile(entry: NarRegular, path: Buffer, onCreated: () => void): Promise<void> {
  let fd = -1;
  create(entry.depth, path, () => (fd = openSync(path, CREATE, entry.executable ? 0o777 : 0o666)));
  if (entry.depth === 0) onCreated();
  try {
    for await (const part of entry.contents) {
      for (let at = 0; at < part.length;) at += writeSync(fd, part, at, part.length - at);
    }
  } finally {
    closeSync(fd);
  }
}

function targetExists(path: Buffer, cause: unknown): NarError {
  return new NarError('target-exists', 'the restore target exists already; restore into a new path', {
    field: path.toString('latin1'),
    cause,
  });
}

/** A Buffer view of the same bytes (fs wants Buffers for byte paths). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
