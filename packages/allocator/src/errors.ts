// Typed errors of @gbc/allocator: every refusal carries a stable string `code`.

/** Codes of {@link AllocatorError}. */
export type AllocatorErrorCode =
  | 'unknown-agent'
  | 'unknown-build'
  | 'duplicate-build'
  | 'invalid-option'
  | 'invalid-strategy'
  | 'strategy-not-found';

/** Base class of every error this package throws. */
export class AllocatorError extends Error {
  readonly code: AllocatorErrorCode;

  constructor(code: AllocatorErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** A custom strategy module could not be imported or does not provide the strategy interface. */
export class StrategyLoadError extends AllocatorError {}
