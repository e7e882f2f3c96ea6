// Restores every path of an export stream into a directory, each under its
// store path's base name, never holding a NAR in memory.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ByteReader, type ByteSource } from '../wire/index.js';
import { restoreNar } from '../nar/index.js';
import { nameProblem } from '../nar/nar-tokens.js';
import { ExportError } from './errors.js';
import { readExport, type ExportedPath } from './export-reader.js';

/**
 * Restores each path of the export read from `input` into `directory` (which
 * must exist) as `directory/<base name of the store path>`. A NAR is first
 * restored under a temporary name, because its path is only known after it,
 * then renamed; a base name that exists already is refused (`path-exists`)
 * and an unusable one (`invalid-path`). Yields each path's metadata with the
 * directory it landed in as `result`.
 */
export async function* restoreExport(
  input: ByteReader | ByteSource,
  directory: string,
): AsyncGenerator<ExportedPath<string>> {
  let n = 0;
  let pending: string | undefined;
  try {
    const paths = readExport(input, async (nar) => {
      pending = join(directory, `.gbc-import-${process.pid}-${n++}`);
      await restoreNar(nar, pending);
      return pending;
    });
    for await (const item of paths) {
      const base = item.path.slice(item.path.lastIndexOf('/') + 1);
      const problem = nameProblem(Buffer.from(base));
      if (problem !== undefined)
        throw new ExportError('invalid-path', `cannot restore ${JSON.stringify(item.path)}: ${problem}`);
      const final = join(directory, base);
      if (existsSync(final))
        throw new ExportError('path-exists', 'a restored path exists already', { field: final });
      renameSync(item.result, final);
      pending = undefined;
      yield { ...item, result: final };
    }
  } finally {
    if (pending !== undefined) rmSync(pending, { recursive: true, force: true });
  }
}
