// Error codes of the HTTP API, their statuses, the JSON error body and ProtocolError.
import { z } from 'zod';
import { named } from './schemas/registry.js';

/**
 * Every error code the coordinator sends, with its HTTP status. A client
 * decides on `code`, never on the message text.
 */
export const errorStatus = {
  /** The request's body, query, path or headers did not match the schema. */
  'bad-request': 400,
  /** An uploaded NAR's hash did not match the hash announced with it; nothing was kept. */
  'hash-mismatch': 400,
  /** An uploaded NAR's size did not match the size announced with it; nothing was kept. */
  'size-mismatch': 400,
  /** No credentials, or wrong ones (agent Basic auth, dynamic-auth token, client bearer token). */
  unauthorized: 401,
  /** Valid credentials that may not do this: another agent's build, a read-only token on a write route, an inactive agent. */
  forbidden: 403,
  /** The build, agent, derivation, output, log or token does not exist. */
  'not-found': 404,
  /** The method is not allowed on this path. */
  'method-not-allowed': 405,
  /** The request conflicts with the current state (e.g. result for a build not started, cancel of a finished build). */
  conflict: 409,
  /** The request's body stopped arriving for longer than the coordinator's idle timeout; an interrupted upload may be resumed. */
  'request-timeout': 408,
  /** The body is larger than the configured limit for this route. */
  'payload-too-large': 413,
  /** The Content-Type or compression is not accepted by this route. */
  'unsupported-media-type': 415,
  /** A resumed upload's offset does not match the bytes the coordinator holds. */
  'range-not-satisfiable': 416,
  /** A derivation could not be parsed, or its path or output paths do not match its text. */
  'unprocessable-derivation': 422,
  /** An uploaded input source or output refers to store paths the coordinator does not hold. */
  'missing-references': 422,
  /** Too many requests; retry after the `Retry-After` header's seconds. */
  'too-many-requests': 429,
  /** A bug or an unexpected failure in the coordinator; details are in its log. */
  internal: 500,
  /** The coordinator is starting or stopping, or its storage or a server it fetches from for the request (a derivation substitute server) is unavailable; retry later. */
  unavailable: 503,
  /**
   * The same upload is still being received: a resumed upload arrived while the
   * coordinator was still closing the broken request. Transient: retry after
   * the `Retry-After` header's seconds, asking for the upload's progress first.
   */
  'upload-in-progress': 503,
} as const;

/** A code the server sends. */
export type ServerErrorCode = keyof typeof errorStatus;

/**
 * Codes made by the clients, never sent by a server: the request did not reach
 * a server (`network-error`), took too long (`timeout`), or the answer did not
 * match the protocol (`invalid-response`). Their `status` is that of the
 * response when one arrived, 0 otherwise.
 */
export const clientErrorCodes = ['network-error', 'timeout', 'invalid-response'] as const;

/** Every code a `ProtocolError` can carry. */
export type ErrorCode = ServerErrorCode | (typeof clientErrorCodes)[number];

/** The server's error codes, as a zod enum. */
export const errorCodeSchema = z.enum(Object.keys(errorStatus) as [ServerErrorCode, ...ServerErrorCode[]]);

/** The JSON body of every error response: `{ "error": { "code", "message", "details"? } }`. */
export const errorBodySchema = named(
  'Error',
  z.object({
    error: z.object({
      code: z.string().min(1),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  }),
  'Every 4xx/5xx response carries this body. `code` is stable; `message` is for people.',
);
/** The JSON body of every error response. */
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An HTTP API error: a status, a stable code, a message for people and optional details. */
export class ProtocolError extends Error {
  readonly status: number;
  readonly code: ErrorCode | (string & {});
  readonly details: unknown;

  constructor(
    code: ErrorCode | (string & {}),
    message: string,
    options: { status?: number; details?: unknown; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProtocolError';
    this.code = code;
    this.status = options.status ?? statusOf(code);
    this.details = options.details;
  }

  /** The JSON error body for this error, as the server sends it. */
  toBody(): ErrorBody {
    return {
      error:
        this.details === undefined
          ? { code: this.code, message: this.message }
          : { code: this.code, message: this.message, details: this.details },
    };
  }
}

/** The HTTP status of a code: its entry in `errorStatus`, 0 for client-side codes, 500 for unknown ones. */
export function statusOf(code: string): number {
  if (Object.hasOwn(errorStatus, code)) return errorStatus[code as ServerErrorCode];
  return (clientErrorCodes as readonly string[]).includes(code) ? 0 : 500;
}

/** Turns a zod validation failure into a `bad-request` ProtocolError with a readable message and the issues as details. */
export function fromZodError(where: string, error: z.ZodError): ProtocolError {
  const details = error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const summary = details.map((d) => (d.path === '' ? d.message : `${d.path}: ${d.message}`)).join('; ');
  return new ProtocolError('bad-request', `invalid ${where}: ${summary}`, { details });
}

/** Validates `value` with `schema`; throws a `bad-request` ProtocolError naming `where` (e.g. "POST /builds body") on failure. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZodError(where, r.error);
  return r.data;
}

/** Whether `err` is a ProtocolError, and (when given) carries one of `codes`. */
export function isProtocolError(err: unknown, ...codes: readonly ErrorCode[]): err is ProtocolError {
  return (
    err instanceof ProtocolError && (codes.length === 0 || (codes as readonly string[]).includes(err.code))
  );
}
