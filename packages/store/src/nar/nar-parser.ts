// Streaming NAR parser: walks the archive in pre-order and yields one entry
// per node, checking every rule of the format on the way (see FORMATS.md).
// It holds no more than one name, one symlink target and one read chunk.
import type { ByteReader } from '../wire/index.js';
import { NarError, asNarError } from './errors.js';
import { NarContents } from './nar-contents.js';
import { expectTag, readSize, readString, readTag, unexpected } from './nar-token-reader.js';
import {
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  MAX_TARGET_BYTES,
  NAR_MAGIC,
  compareBytes,
  nameProblem,
  targetProblem,
} from './nar-tokens.js';

/** Fields every entry has. */
interface NarEntryBase {
  /** Path relative to the archive's root, components joined by "/"; empty for the root. */
  readonly path: Uint8Array;
  /** The entry's name in its directory; undefined for the root. */
  readonly name: Uint8Array | undefined;
  /** 0 for the root, 1 for its entries, and so on. */
  readonly depth: number;
}

/** A directory; its entries follow as the next entries of greater depth. */
export interface NarDirectory extends NarEntryBase {
  readonly kind: 'directory';
}

/** A symbolic link (never followed). */
export interface NarSymlink extends NarEntryBase {
  readonly kind: 'symlink';
  readonly target: Uint8Array;
}

/** A regular file; read `contents` before asking for the next entry, or it is skipped. */
export interface NarRegular extends NarEntryBase {
  readonly kind: 'regular';
  readonly executable: boolean;
  /** Size of the contents, in bytes. */
  readonly size: number;
  readonly contents: NarContents;
}

/** One node of a NAR. */
export type NarEntry = NarDirectory | NarSymlink | NarRegular;

/** Options of `parseNar`. */
export interface ParseNarOptions {
  /** The NAR is the whole input: bytes after it are a `trailing-data` error (default true). */
  readonly wholeInput?: boolean;
}

const SLASH = 0x2f;

/**
 * Parses one NAR from `reader`, yielding its entries in pre-order. Stops right
 * after the archive's last byte; with `wholeInput` (default) anything after it
 * is refused. Every refusal is a NarError with a code and the byte offset.
 * Entries hold copies of names and targets, never the source's memory; only
 * `contents` chunks are views of the source's chunks, so a source that
 * recycles its buffers must let each file's chunks be used before the next.
 */
export async function* parseNar(reader: ByteReader, options: ParseNarOptions = {}): AsyncGenerator<NarEntry> {
  try {
    yield* parse(reader);
    if ((options.wholeInput ?? true) && !(await reader.atEnd())) {
      throw new NarError('trailing-data', 'bytes follow the end of the NAR', {
        offset: reader.offset,
        expected: 'end of input',
      });
    }
  } catch (error) {
    throw asNarError(error);
  }
}

/** The previous entry name of each directory still open, innermost last. */
type Frame = { path: Uint8Array; depth: number; previous: Uint8Array | undefined };

async function* parse(reader: ByteReader): AsyncGenerator<NarEntry> {
  const magicAt = reader.offset;
  const magic = await readTag(reader, 'bad-magic');
  if (magic !== NAR_MAGIC) {
    throw new NarError('bad-magic', 'this is not a NAR', {
      offset: magicAt,
      expected: JSON.stringify(NAR_MAGIC),
      found: JSON.stringify(magic),
    });
  }
  const stack: Frame[] = [];
  let path: Uint8Array = new Uint8Array(0);
  let name: Uint8Array | undefined;
  for (;;) {
    const depth = stack.length;
    await expectTag(reader, '(');
    await expectTag(reader, 'type');
    const typeAt = reader.offset;
    const type = await readTag(reader);
    if (type === 'regular') {
      let tagAt = reader.offset;
      let tag = await readTag(reader);
      const executable = tag === 'executable';
      if (executable) {
        await expectTag(reader, '');
        tagAt = reader.offset;
        tag = await readTag(reader);
      }
      if (tag !== 'contents')
        throw unexpected(tagAt, tag, executable ? '"contents"' : '"executable" or "contents"');
      const size = await readSize(reader, 'file size');
      const contents = new NarContents(reader, size);
      yield { kind: 'regular', path, name, depth, executable, size, contents };
      await contents.discard();
      await readPadding(reader, size);
      await expectTag(reader, ')');
    } else if (type === 'symlink') {
      await expectTag(reader, 'target');
      const targetAt = reader.offset;
      const target = await readString(reader, MAX_TARGET_BYTES, 'symlink target');
      const problem = targetProblem(target);
      if (problem !== undefined)
        throw new NarError('invalid-symlink-target', `invalid symlink target: ${problem}`, {
          offset: targetAt,
        });
      yield { kind: 'symlink', path, name, depth, target };
      await expectTag(reader, ')');
    } else if (type === 'directory') {
      yield { kind: 'directory', path, name, depth };
      stack.push({ path, depth, previous: undefined });
    } else {
      throw new NarError('unknown-type', 'unknown node type', {
        offset: typeAt,
        expected: 'regular, symlink or directory',
        found: JSON.stringify(type),
      });
    }
    // The node is done unless it is an open directory: close the entry around it,
    // then read on in the innermost open directory until an entry begins.
    if (type !== 'directory' && stack.length > 0) await expectTag(reader, ')');
    const next = await nextEntry(reader, stack);
    if (next === undefined) return;
    ({ path, name } = next);
  }
}

/** Reads directory tokens until an entry's node begins; undefined when the root closed. */
async function nextEntry(
  reader: ByteReader,
  stack: Frame[],
): Promise<{ path: Uint8Array; name: Uint8Array } | undefined> {
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const tagAt = reader.offset;
    const tag = await readTag(reader);
    if (tag === ')') {
      stack.pop();
      if (stack.length > 0) await expectTag(reader, ')');
      continue;
    }
    if (tag !== 'entry') throw unexpected(tagAt, tag, '"entry" or ")"');
    await expectTag(reader, '(');
    await expectTag(reader, 'name');
    const nameAt = reader.offset;
    const name = await readString(reader, MAX_NAME_BYTES, 'entry name');
    const problem = nameProblem(name);
    if (problem !== undefined)
      throw new NarError('invalid-name', `invalid entry name: ${problem}`, {
        offset: nameAt,
        found: show(name),
      });
    if (frame.previous !== undefined) {
      const order = compareBytes(frame.previous, name);
      if (order === 0)
        throw new NarError('duplicate-entry', 'a directory holds the same name twice', {
          offset: nameAt,
          found: show(name),
        });
      if (order > 0) {
        throw new NarError('unsorted-entries', 'directory entries are not sorted by name', {
          offset: nameAt,
          expected: `a name after ${show(frame.previous)}`,
          found: show(name),
        });
      }
    }
    frame.previous = name;
    await expectTag(reader, 'node');
    // Bounded, or a hostile archive nested 100k deep would cost quadratic time building paths.
    if (frame.path.length + 1 + name.length > MAX_PATH_BYTES) {
      throw new NarError('path-too-long', `a path in the archive is longer than ${MAX_PATH_BYTES} bytes`, {
        offset: nameAt,
        found: `depth ${stack.length}`,
      });
    }
    const path = frame.path.length === 0 ? name : Buffer.concat([frame.path, Uint8Array.of(SLASH), name]);
    return { path, name };
  }
  return undefined;
}

function show(name: Uint8Array): string {
  return JSON.stringify(Buffer.from(name).toString('latin1'));
}

/** Checks the zero padding after a file's contents. */
function readPadding(reader: ByteReader, size: number): void | Promise<void> {
  const pad = (8 - (size % 8)) % 8;
  if (pad === 0) return;
  const bytes = reader.readBuffered(pad);
  if (bytes !== undefined) return checkZero(bytes, reader.offset - pad);
  const at = reader.offset;
  return reader.readExact(pad, 'file padding').then((b) => checkZero(b, at));
}

function checkZero(bytes: Uint8Array, at: number): void {
  if (bytes.some((x) => x !== 0))
    throw new NarError('nonzero-padding', 'padding after file contents is not zero', {
      offset: at,
      expected: 'zero bytes',
    });
}
