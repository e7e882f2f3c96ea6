// Errors of the gbc command: a usage or configuration problem, reported as
// one readable line and a documented exit code.

/** Exit codes of `gbc`, documented in the README. */
export const ExitCode = {
  ok: 0,
  /** The command failed: the coordinator refused, a build failed to be found… */
  failure: 1,
  /** Bad usage or configuration: unknown flag, unreadable config file. */
  usage: 2,
  /** The coordinator could not be reached. */
  unreachable: 3,
  /** `build watch`: the build ended in failure or was canceled. */
  buildFailed: 4,
} as const;

/** A problem the user can fix, shown as one line; `exitCode` from ExitCode. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(
    code: string,
    message: string,
    exitCode: number = ExitCode.failure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}
