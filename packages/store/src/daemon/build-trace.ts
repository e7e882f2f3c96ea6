// The daemon's own lines during a build: guix-daemon's build traces
// (`@ build-started …`, printed with print-build-trace) and the messages
// that tell which time limit stopped a build (Guix and Nix word them alike).

/** Which limit stopped a build: the total time (`timeout`) or the silence (`max-silent-time`). */
export type TimeLimit = 'timeout' | 'max-silent-time';

/** A guix-daemon build trace line, parsed. */
export type BuildTrace =
  | {
      readonly kind: 'build-started';
      readonly drvPath: string;
      readonly system: string;
      readonly logFile: string;
      readonly pid: number;
    }
  | { readonly kind: 'build-succeeded'; readonly drvPath: string }
  /** `reason`: `timeout`, `cached`, or the status and message of a failure. */
  | { readonly kind: 'build-failed'; readonly drvPath: string; readonly reason: string }
  | {
      readonly kind: 'substituter-started' | 'substituter-succeeded' | 'substituter-failed';
      readonly path: string;
    }
  /** Any other `@ name …` line (hook-failed, download-progress, …). */
  | { readonly kind: 'other'; readonly name: string };

// printMsg may prefix nested messages with "|   " (log type "pretty").
const TRACE = /^(?:\| {3})*@ ([a-z][a-z-]*)(?: (.*))?$/;
const PID = /^[0-9]{1,10}$/;

/**
 * Parses a trace line (`@ …`); undefined for any other line, and for a
 * `@ build-log` frame header that reached here (a malformed frame is text to
 * show, not a trace to drop). Never throws.
 */
export function parseBuildTrace(line: string): BuildTrace | undefined {
  const match = TRACE.exec(line);
  if (match === null || match[1] === 'build-log') return undefined;
  const name = match[1]!;
  const words = (match[2] ?? '').split(' ');
  const [first = '', dash, ...rest] = words;
  switch (name) {
    case 'build-started': {
      // DRV - SYSTEM LOGFILE PID
      const [system = '', logFile = '', pid = ''] = rest;
      if (dash !== '-' || !PID.test(pid)) return { kind: 'other', name };
      return { kind: name, drvPath: first, system, logFile, pid: Number(pid) };
    }
    case 'build-succeeded':
      return dash === '-' ? { kind: name, drvPath: first } : { kind: 'other', name };
    case 'build-failed':
      return dash === '-' ? { kind: name, drvPath: first, reason: rest.join(' ') } : { kind: 'other', name };
    case 'substituter-started':
    case 'substituter-succeeded':
    case 'substituter-failed':
      return { kind: name, path: first };
    default:
      return { kind: 'other', name };
  }
}

// "building of `DRV' timed out after N seconds of silence" / "… after N seconds"
// (Guix 1.5.0 prints a literal "%2%" for N); Nix 2.8: "building of 'DRV' timed out …".
const TIMED_OUT = /timed out after (?:[0-9]+|%2%) seconds( of silence)?[ \t]*$/m;

/** The time limit a daemon message reports, or undefined when it reports none. */
export function timeLimitOf(message: string): TimeLimit | undefined {
  const match = TIMED_OUT.exec(message);
  if (match === null) return undefined;
  return match[1] === undefined ? 'timeout' : 'max-silent-time';
}
