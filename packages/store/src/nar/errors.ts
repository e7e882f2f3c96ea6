// Typed errors of the NAR writer and reader: a stable code, the byte offset in
// the archive (or the file concerned), what was expected and what was found.
import { StoreError, WireError } from '../errors.js';

/**
 * A NAR broke a rule of the format (codes `bad-magic`, `unexpected-tag`,
 * `unknown-type`, `invalid-name`, `unsorted-entries`, `duplicate-entry`,
 * `invalid-symlink-target`, `path-too-long`, `trailing-data`, `contents-reread`,
 * and the framing codes
 * `truncated`, `nonzero-padding`, `integer-too-large`, `string-too-long`),
 * or a tree could not be dumped or restored (`unsupported-file-type`,
 * `file-changed`, `target-exists`).
 */
export class NarError extends StoreError {}

/** Rethrows a framing error of the shared wire reader as a NarError with the same code and offset. */
export function asNarError(error: unknown): unknown {
  if (error instanceof WireError) {
    return new NarError(error.code, `NAR framing broken: ${error.message.split('; ')[0]}`, {
      offset: error.offset,
      expected: error.expected,
      found: error.found,
      cause: error,
    });
  }
  return error;
}
