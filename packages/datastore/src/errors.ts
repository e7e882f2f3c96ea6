// Typed errors of @gbc/datastore: each carries a stable string `code` and, where
// there is one, the underlying driver error as `cause`.

/** Base class of every datastore error; `code` is stable and machine-readable. */
export class DatastoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** The database URI is malformed, of an unknown scheme, or the database cannot be reached. */
export class DatastoreUriError extends DatastoreError {}

/** Migrations failed, or the database schema is newer than this code (`schema-newer`). */
export class MigrationError extends DatastoreError {}

/** A row the caller named does not exist (`build-not-found`, `agent-not-found`, …). */
export class NotFoundError extends DatastoreError {}

/** The change conflicts with the current state (`build-not-claimable`, `attempt-ended`, …). */
export class StateConflictError extends DatastoreError {}

/** The caller passed a value the datastore cannot store (`invalid-input`). */
export class InvalidInputError extends DatastoreError {}

/** Refuses a page size that is not a whole number from 1 to `max`. */
export function checkPageLimit(limit: number, max = 1000): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max)
    throw new InvalidInputError('invalid-input', `limit must be an integer from 1 to ${max}, got ${limit}`);
}
