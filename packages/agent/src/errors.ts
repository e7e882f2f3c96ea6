// Typed errors of @gbc/agent: each carries a stable string `code` and its cause.

/** Details of an AgentError. */
export interface AgentErrorDetails {
  readonly cause?: unknown;
  /** Store paths concerned (e.g. the inputs that could not be had). */
  readonly paths?: readonly string[];
  /** `import-refused`: the daemon refused the import's signature (the agent's key), not the archive. */
  readonly signature?: boolean;
}

/**
 * An agent failure. Codes: `bad-options` (an option is invalid), `missing-inputs`
 * (inputs found nowhere; `paths` lists them), `hash-mismatch` (a fetched NAR is
 * not what its narinfo says), `import-refused` (the daemon would not import a
 * fetched, verified NAR: e.g. unsigned, or signed by a key it does not
 * authorize; `signature` tells), `source-unavailable` (a binary cache answered
 * 5xx or 429: transient), `source-refused` (another HTTP error), `program-failed` (a compressor failed),
 * `credentials` (no usable credentials), `stopped` (the agent is stopping),
 * `retries-exhausted` (the coordinator stayed unreachable), `log-incomplete`
 * (the log spool could not be written or read back), `log-mismatch` (the
 * coordinator holds more of a log than was produced).
 */
export class AgentError extends Error {
  readonly code: string;
  readonly paths: readonly string[];
  /** See {@link AgentErrorDetails.signature}. */
  readonly signature: boolean;

  constructor(code: string, message: string, details: AgentErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AgentError';
    this.code = code;
    this.paths = details.paths ?? [];
    this.signature = details.signature ?? false;
  }
}

/** True when `error` is an AgentError with `code`. */
export function isAgentError(error: unknown, code?: string): error is AgentError {
  return error instanceof AgentError && (code === undefined || error.code === code);
}
