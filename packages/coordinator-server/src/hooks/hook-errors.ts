// Typed errors of the hook system: bad configuration (refused at start) and
// failures of a hook run (recorded on the outbox event, which is retried).

/** Stable codes of hook errors. */
export type HookErrorCode =
  'bad-hook-config' | 'command-failed' | 'http-failed' | 'hook-timeout' | 'publish-failed' | 'missing-data';

/** A hook could not be configured or one run of it failed; `code` is stable. */
export class HookError extends Error {
  readonly code: HookErrorCode;

  constructor(code: HookErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HookError';
    this.code = code;
  }
}

/** One line describing `error` for the outbox's `last_error` column. */
export function describeHookError(error: unknown): string {
  if (error instanceof HookError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
