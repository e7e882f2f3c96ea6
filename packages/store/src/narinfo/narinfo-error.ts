// The typed error of the narinfo and nix-cache-info parsers and writers.
import { StoreError } from '../errors.js';
import type { StoreErrorDetails } from '../errors.js';

/** Details of a narinfo refusal: the store-error details plus the 1-based line. */
export interface NarInfoErrorDetails extends StoreErrorDetails {
  /** 1-based line number of the offending line, when the problem has one. */
  readonly line?: number;
}

/**
 * A narinfo (or nix-cache-info) broke a rule. `code` is one of
 * `narinfo-syntax`, `narinfo-unknown-field`, `narinfo-duplicate-field`,
 * `narinfo-missing-field`, `narinfo-bad-hash`, `narinfo-bad-size`,
 * `narinfo-bad-store-path`, `narinfo-bad-value`, `narinfo-layout`.
 */
export class NarInfoError extends StoreError {
  /** 1-based line number, when known. */
  readonly line: number | undefined;

  constructor(code: string, message: string, details: NarInfoErrorDetails = {}) {
    const field =
      details.line === undefined ? details.field : `${details.field ?? 'narinfo'} (line ${details.line})`;
    super(code, message, { ...details, field });
    this.line = details.line;
  }
}
