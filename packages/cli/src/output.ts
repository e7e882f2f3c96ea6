// Where a command writes: readable text by default, JSON with --json, and
// the exit code it wants. Passed to every command, so tests could capture it.
/** The output channel of one run of `gbc`. */
export interface Output {
  /** True when --json was given. */
  readonly json: boolean;
  /** Prints `value` as JSON (with --json) or the text `text()` gives. */
  result(value: unknown, text: () => string): void;
  /** Writes a line on standard error (progress, notices). */
  note(line: string): void;
  /** Writes raw text on standard output. */
  write(text: string): void;
  /** Sets the exit code of a run that otherwise succeeded (e.g. `build watch` on a failed build). */
  setExitCode(code: number): void;
  readonly exitCode: number;
}

/** An Output over process.stdout/stderr. */
export function createOutput(
  json: boolean,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Output {
  let exitCode = 0;
  return {
    json,
    result(value, text) {
      out.write(json ? `${JSON.stringify(value, null, 2)}\n` : ensureNewline(text()));
    },
    note: (line) => void err.write(`${line}\n`),
    write: (text) => void out.write(text),
    setExitCode: (code) => {
      exitCode = code;
    },
    get exitCode() {
      return exitCode;
    },
  };
}

function ensureNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
