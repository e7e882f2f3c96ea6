// Turns any error into the one line `gbc` prints and its exit code: the
// coordinator's refusals by code, network failures as "unreachable", our
// typed errors by their code; a stack trace only with GBC_DEBUG=1.
import { isProtocolError } from '@gbc/protocol';
import { CliError, ExitCode } from './errors.js';

/** What to print and which code to exit with. */
export interface ErrorReport {
  readonly line: string;
  readonly exitCode: number;
  /** The stack, when GBC_DEBUG=1. */
  readonly debug?: string;
}

/** Describes `error` for the terminal; `coordinatorUrl` is named when the coordinator could not be reached. */
export function reportError(
  error: unknown,
  env: NodeJS.ProcessEnv = process.env,
  coordinatorUrl?: string,
): ErrorReport {
  const debug = env.GBC_DEBUG === '1' && error instanceof Error ? error.stack : undefined;
  const base = { ...(debug === undefined ? {} : { debug }) };
  if (error instanceof CliError) return { ...base, line: `gbc: ${error.message}`, exitCode: error.exitCode };
  if (isProtocolError(error, 'network-error', 'timeout')) {
    const at = coordinatorUrl === undefined ? '' : ` at ${coordinatorUrl}`;
    return {
      ...base,
      line: `gbc: cannot reach the coordinator${at}: ${oneLine(error.message)}`,
      exitCode: ExitCode.unreachable,
    };
  }
  if (isProtocolError(error))
    return { ...base, line: `gbc: ${error.code}: ${oneLine(error.message)}`, exitCode: ExitCode.failure };
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const prefix = typeof code === 'string' ? `${code}: ` : '';
    return { ...base, line: `gbc: ${prefix}${oneLine(error.message)}`, exitCode: ExitCode.failure };
  }
  return { ...base, line: `gbc: ${oneLine(String(error))}`, exitCode: ExitCode.failure };
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
