// The one place where errors become HTTP answers. Every app of the coordinator
// installs `createErrorHandler(logger)` as its `onError` and `notFoundHandler`
// as its `notFound`; handlers simply throw. Mapping:
//   HttpError / ProtocolError    → its status and code
//   ZodError                     → 400 bad-request with the schema's message
//   StorageError (storage layer) → 400/404/409/413/415/416, 503 upload-in-progress (Retry-After), else 500
//   DatastoreError               → NotFound 404, StateConflict 409, InvalidInput 400, unreachable 503
//   hono HTTPException           → its status (413 from the body limit → payload-too-large)
//   anything else                → 500 internal (logged with its stack; the body says only "internal error")
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import {
  DatastoreError,
  DatastoreUriError,
  InvalidInputError,
  NotFoundError,
  StateConflictError,
} from '@gbc/datastore';
import { ProtocolError, fromZodError } from '@gbc/protocol';
import type { ServerErrorCode } from '@gbc/protocol';
import { StorageError, isUploadRefusal } from '../errors.js';
import type { Logger } from '../logger.js';
import { HttpError } from './http-error.js';

const storageCodes: Partial<Record<StorageError['code'], ServerErrorCode>> = {
  'hash-mismatch': 'hash-mismatch',
  'size-mismatch': 'size-mismatch',
  'offset-mismatch': 'range-not-satisfiable',
  'too-large': 'payload-too-large',
  'unknown-compression': 'unsupported-media-type',
  'corrupt-compression': 'bad-request',
  'corrupt-nar': 'bad-request',
  truncated: 'bad-request',
  interrupted: 'bad-request',
  'invalid-key': 'bad-request',
  'invalid-hash': 'bad-request',
  'not-found': 'not-found',
  'upload-in-progress': 'upload-in-progress',
  'log-sealed': 'conflict',
};

/** Maps any thrown value to the HttpError the caller receives (exported for tests and streaming routes). */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ProtocolError)
    return new HttpError(error.status >= 400 ? (error.code as ServerErrorCode) : 'internal', error.message, {
      status: error.status >= 400 ? error.status : 500,
      details: error.details,
    });
  if (error instanceof z.ZodError) {
    const p = fromZodError('request', error);
    return new HttpError('bad-request', p.message, { details: p.details, cause: error });
  }
  if (error instanceof StorageError) {
    // A body cut by the listener (request-timeouts.ts) says why, not just that it broke off.
    if (error.code === 'interrupted') {
      const why = listenerCut(error);
      if (why !== undefined) return why;
    }
    const code = storageCodes[error.code];
    if (
      code !== undefined &&
      (isUploadRefusal(error) ||
        code === 'not-found' ||
        code === 'conflict' ||
        code === 'bad-request' ||
        code === 'upload-in-progress')
    ) {
      return new HttpError(code, error.message, {
        cause: error,
        details: error.received === undefined ? undefined : { received: error.received },
      });
    }
    return new HttpError('internal', 'internal storage error', { cause: error });
  }
  if (error instanceof NotFoundError)
    return new HttpError('not-found', error.message, { cause: error, details: { reason: error.code } });
  if (error instanceof StateConflictError)
    return new HttpError('conflict', error.message, { cause: error, details: { reason: error.code } });
  if (error instanceof InvalidInputError)
    return new HttpError('bad-request', error.message, { cause: error });
  if (error instanceof DatastoreUriError && error.code === 'unreachable')
    return new HttpError('unavailable', 'the database is unreachable; retry later', { cause: error });
  if (error instanceof DatastoreError)
    return new HttpError('internal', 'internal datastore error', { cause: error });
  if (error instanceof HTTPException) {
    if (error.status === 413)
      return new HttpError('payload-too-large', 'the request body is larger than this route accepts', {
        cause: error,
      });
    const code =
      error.status === 401
        ? 'unauthorized'
        : error.status === 403
          ? 'forbidden'
          : error.status === 404
            ? 'not-found'
            : error.status < 500
              ? 'bad-request'
              : 'internal';
    return new HttpError(code, error.message || code, { status: error.status, cause: error });
  }
  return new HttpError('internal', 'internal error', { cause: error });
}

/** The `onError` of every coordinator app: logs server faults, answers the protocol's JSON error body. */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return (error: Error, c: Context) => {
    const http = toHttpError(error);
    if (http.status >= 500)
      logger.error('request failed', {
        method: c.req.method,
        path: c.req.path,
        code: http.code,
        error: describe(error),
      });
    return c.json(http.toBody(), http.status as 400, errorHeaders(http));
  };
}

/** The headers an error answer carries besides its JSON body (every app's onError, the fast paths). */
export function errorHeaders(http: HttpError): Record<string, string> {
  const headers: Record<string, string> =
    http.code === 'unauthorized' ? { 'WWW-Authenticate': 'Basic realm="gbc"' } : {};
  // A broken upload is being closed: that takes moments, not minutes.
  if (http.code === 'upload-in-progress') headers['Retry-After'] = '1';
  const retryAfter = (http.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (http.code === 'too-many-requests' && typeof retryAfter === 'number')
    headers['Retry-After'] = String(retryAfter);
  return headers;
}

/** The `notFound` of every coordinator app: 404 with the protocol's body. */
export const notFoundHandler: NotFoundHandler = (c) =>
  c.json(new HttpError('not-found', `no route ${c.req.method} ${c.req.path}`).toBody(), 404);

function listenerCut(error: Error): HttpError | undefined {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 4 && cause instanceof Error; depth++, cause = cause.cause) {
    if (cause instanceof HttpError && cause.code === 'request-timeout') return cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}
