// Typed errors of client authentication outside HTTP (listening, token admin).

/** Stable codes of {@link ClientAuthError}. */
export type ClientAuthErrorCode = 'unauthenticated-exposure' | 'token-not-found' | 'invalid-token-name';

/** A refusal of the client-auth layer; `code` is stable. */
export class ClientAuthError extends Error {
  readonly code: ClientAuthErrorCode;

  constructor(code: ClientAuthErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientAuthError';
    this.code = code;
  }
}
