// The one HTTP error type of the coordinator's routes: a status, a stable code
// from @gbc/protocol's `errorStatus`, a message for people and optional
// details. Throw it from any handler; `onError` (on-error.ts) turns it into
// the protocol's JSON error body `{ error: { code, message, details? } }`.
import { ProtocolError, statusOf } from '@gbc/protocol';
import type { ServerErrorCode } from '@gbc/protocol';

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** Anything JSON-serialisable that helps the caller (bad fields, bytes received, …). */
  readonly details?: unknown;
  readonly cause?: unknown;
  /** Override the status the code implies (rarely needed). */
  readonly status?: number;
}

/**
 * An error answered to an HTTP caller. It is a ProtocolError (the same class
 * the typed clients throw), restricted to the codes a server sends.
 */
export class HttpError extends ProtocolError {
  declare readonly code: ServerErrorCode;

  constructor(code: ServerErrorCode, message: string, options: HttpErrorOptions = {}) {
    super(code, message, {
      status: options.status ?? statusOf(code),
      details: options.details,
      cause: options.cause,
    });
    this.name = 'HttpError';
  }
}

/** 404 `not-found` for a missing `what` (e.g. `build`, `agent`) with id `id`. */
export function notFound(what: string, id: string): HttpError {
  return new HttpError('not-found', `no ${what} ${id}`);
}
