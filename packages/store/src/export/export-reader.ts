// Streaming reader of the legacy export format. A path's metadata comes after
// its NAR, so each NAR is handed to a consumer (store it, restore it, forward
// it) while it is validated and hashed, and the metadata is yielded after.
import { ByteReader, type ByteSource } from '../wire/index.js';
import { NarHasher, copyNar, tapNarHash, type NarDigest } from '../nar/index.js';
import { ExportError, asExportError } from './errors.js';
import {
  EXPORT_MAGIC,
  MAX_EXPORT_PATH_BYTES,
  MAX_EXPORT_REFERENCES,
  MAX_EXPORT_SIGNATURE_BYTES,
  type ExportedPathInfo,
} from './export-format.js';

/** Receives one path's NAR bytes (validated as they stream) and returns what it made of them. */
export type NarConsumer<T> = (nar: AsyncIterable<Uint8Array>) => Promise<T>;

/** One path read from an export stream. */
export interface ExportedPath<T> extends ExportedPathInfo, NarDigest {
  /** What the consumer returned for this path's NAR. */
  readonly result: T;
}

/** Options of `readExport`. */
export interface ReadExportOptions {
  /** The export must be the whole input (default true). */
  readonly wholeInput?: boolean;
}

/** A consumer that only drains (validates) the NAR. */
export const drainNar: NarConsumer<undefined> = async (nar) => {
  for await (const _ of nar) void _;
  return undefined;
};

/**
 * Reads an export stream path by path. Each NAR is validated and hashed while
 * `consume` reads it (the consumer must read it to the end); then the path's
 * metadata is yielded with the NAR's hash and size and the consumer's result.
 * Errors: ExportError for the framing around NARs, NarError inside them.
 */
export async function* readExport<T = undefined>(
  input: ByteReader | ByteSource,
  consume: NarConsumer<T> = drainNar as NarConsumer<T>,
  options: ReadExportOptions = {},
): AsyncGenerator<ExportedPath<T>> {
  const reader = input instanceof ByteReader ? input : new ByteReader(input);
  try {
    for (;;) {
      const markerAt = reader.offset;
      const marker = await reader.readU64('export marker');
      if (marker === 0) break;
      if (marker !== 1)
        throw new ExportError('bad-marker', 'bad marker before a path', {
          offset: markerAt,
          expected: '1 (a path follows) or 0 (end)',
          found: String(marker),
        });
      const hasher = new NarHasher();
      const result = await consume(tapNarHash(copyNar(reader), hasher));
      const info = await readInfo(reader);
      yield { ...info, ...hasher.digest(), result };
    }
    if ((options.wholeInput ?? true) && !(await reader.atEnd())) {
      throw new ExportError('trailing-data', 'bytes follow the end of the export', {
        offset: reader.offset,
        expected: 'end of input',
      });
    }
  } catch (error) {
    throw asExportError(error);
  }
}

/** Reads the metadata that follows a path's NAR. */
async function readInfo(reader: ByteReader): Promise<ExportedPathInfo> {
  const magicAt = reader.offset;
  const magic = await reader.readU64('export magic');
  if (magic !== EXPORT_MAGIC) {
    throw new ExportError('bad-magic', 'missing export magic after a NAR', {
      offset: magicAt,
      expected: `0x${EXPORT_MAGIC.toString(16)}`,
      found: `0x${magic.toString(16)}`,
    });
  }
  const path = await readPath(reader, 'store path');
  const countAt = reader.offset;
  const count = await reader.readU64('reference count');
  if (count > MAX_EXPORT_REFERENCES) {
    throw new ExportError('too-many-references', 'absurd number of references', {
      offset: countAt,
      expected: `at most ${MAX_EXPORT_REFERENCES}`,
      found: String(count),
    });
  }
  const references: string[] = [];
  for (let i = 0; i < count; i++) references.push(await readPath(reader, 'reference'));
  const deriver = await reader.readString(MAX_EXPORT_PATH_BYTES, 'deriver');
  const flagAt = reader.offset;
  const flag = await reader.readU64('signature flag');
  if (flag > 1)
    throw new ExportError('bad-signature-flag', 'bad signature flag', {
      offset: flagAt,
      expected: '0 or 1',
      found: String(flag),
    });
  const signature = flag === 1 ? await reader.readBytes(MAX_EXPORT_SIGNATURE_BYTES, 'signature') : undefined;
  return {
    path,
    references,
    deriver: deriver === '' ? undefined : deriver,
    ...(signature === undefined ? {} : { signature }),
  };
}

/** Reads a store path: absolute, not ending in "/". */
async function readPath(reader: ByteReader, what: string): Promise<string> {
  const at = reader.offset;
  const path = await reader.readString(MAX_EXPORT_PATH_BYTES, what);
  if (!path.startsWith('/') || path.endsWith('/') || path.includes('\0')) {
    throw new ExportError('invalid-path', `the ${what} is not an absolute store path`, {
      offset: at,
      found: JSON.stringify(path.slice(0, 80)),
    });
  }
  return path;
}
