// Typed errors of the coordinator's storage layer (NARs, logs, compression).
// Independent of HTTP: a route maps `code` to a status (see `isUploadRefusal`).

/** Stable codes of storage and compression errors. */
export type StorageErrorCode =
  | 'invalid-key'
  | 'invalid-location'
  | 'not-found'
  | 'io'
  | 'unknown-compression'
  | 'program-missing'
  | 'program-failed'
  | 'corrupt-compression'
  | 'invalid-hash'
  | 'hash-mismatch'
  | 'size-mismatch'
  | 'truncated'
  | 'too-large'
  | 'corrupt-nar'
  | 'offset-mismatch'
  | 'upload-in-progress'
  | 'interrupted'
  | 'log-sealed';

/** Details carried by a storage error. */
export interface StorageErrorDetails {
  /** What was expected, for the message. */
  readonly expected?: string;
  /** What was found instead, for the message. */
  readonly found?: string;
  /** For resumable uploads: bytes of the upload kept so far (where to resume). */
  readonly received?: number;
  readonly cause?: unknown;
}

/** Base class of everything the storage layer refuses or fails at; `code` is stable. */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly expected: string | undefined;
  readonly found: string | undefined;
  /** Bytes of a resumable upload kept so far, when relevant. */
  readonly received: number | undefined;

  constructor(code: StorageErrorCode, message: string, details: StorageErrorDetails = {}) {
    const parts = [message];
    if (details.expected !== undefined) parts.push(`expected ${details.expected}`);
    if (details.found !== undefined) parts.push(`found ${details.found}`);
    super(parts.join('; '), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.expected = details.expected;
    this.found = details.found;
    this.received = details.received;
  }
}

/** A compressed stream could not be encoded or decoded (bad data, missing or failing program). */
export class CompressionError extends StorageError {}

/**
 * An upload was refused because of what the client sent (hash, size, bytes,
 * offset): nothing of it was published. Routes answer these with a 4xx.
 */
export class UploadRefusedError extends StorageError {}

const REFUSALS: ReadonlySet<StorageErrorCode> = new Set<StorageErrorCode>([
  'invalid-key',
  'unknown-compression',
  'corrupt-compression',
  'invalid-hash',
  'hash-mismatch',
  'size-mismatch',
  'truncated',
  'too-large',
  'corrupt-nar',
  'offset-mismatch',
]);

/**
 * True when `error` refuses what the client sent (data, declarations, key,
 * offset): a 4xx, nothing kept. False for server faults (`io`,
 * `program-missing`, …) and for states (`upload-in-progress`, `interrupted`).
 */
export function isUploadRefusal(error: unknown): error is StorageError {
  return error instanceof StorageError && REFUSALS.has(error.code);
}
