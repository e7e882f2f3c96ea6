// Typed errors of the legacy export format (nix-store --export, guix export-path).
import { StoreError, WireError } from '../errors.js';

/**
 * An export stream broke the format (codes `bad-marker`, `bad-magic`,
 * `bad-signature-flag`, `too-many-references`, `invalid-path`, `path-exists`,
 * `trailing-data`,
 * and the framing codes `truncated`, `nonzero-padding`, `integer-too-large`,
 * `string-too-long`). Errors inside a path's NAR are NarErrors.
 */
export class ExportError extends StoreError {}

/** Rethrows a framing error of the shared wire reader as an ExportError with the same code and offset. */
export function asExportError(error: unknown): unknown {
  if (error instanceof WireError) {
    return new ExportError(error.code, `export stream framing broken: ${error.message.split('; ')[0]}`, {
      offset: error.offset,
      expected: error.expected,
      found: error.found,
      cause: error,
    });
  }
  return error;
}
