// A Duplex stream that pipes bytes through a program (zstd, lzip): stdin is
// the writable side, stdout the readable side. The readable side ends only
// after the program exits with status 0, so a failure is an error, never a
// silently short output. Destroying the stream kills the program.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { CompressionError } from '../errors.js';

/** How a program filter reports failures. */
export interface ProgramFilterOptions {
  /** Program name or path, e.g. `zstd`. */
  readonly program: string;
  readonly args: readonly string[];
  /** Code used when the program exits non-zero: `corrupt-compression` for decoders. */
  readonly failureCode: 'corrupt-compression' | 'program-failed';
  /** What the filter does, for messages, e.g. `zstd decompression`. */
  readonly what: string;
}

const STDERR_KEEP = 2048;

/** A program filter stream; `pid` is the program's process id (undefined if it could not start). */
export interface ProgramFilterStream extends Duplex {
  readonly pid: number | undefined;
}

/** Runs `program` as a streaming filter; see the file header for the contract. */
export function createProgramFilter(options: ProgramFilterOptions): ProgramFilterStream {
  return new ProgramFilter(options);
}

class ProgramFilter extends Duplex implements ProgramFilterStream {
  readonly #options: ProgramFilterOptions;
  readonly #child: ChildProcessWithoutNullStreams;
  #stderr = '';
  #exited = false;
  /** The program exited and all its output streams, stderr included, are closed. */
  #closed = false;
  #exitCode: number | null = null;
  #exitSignal: NodeJS.Signals | null = null;
  #pendingWrite: (() => void) | null = null;
  #inputDropped = false;
  #inputEnded = false;

  constructor(options: ProgramFilterOptions) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.#options = options;
    this.#child = spawn(options.program, [...options.args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const child = this.#child;
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.#exited = true;
      const missing = err.code === 'ENOENT';
      this.destroy(
        new CompressionError(
          missing ? 'program-missing' : 'program-failed',
          missing
            ? `${options.what} needs the program ${options.program}, which is not installed (install it, e.g. apt-get install ${options.program})`
            : `${options.what}: could not run ${options.program}`,
          { cause: err },
        ),
      );
    });
    // EPIPE on stdin means the program stopped reading: its exit status tells
    // why, and input it never read makes even a status 0 a failure.
    child.stdin.on('error', () => {
      this.#inputDropped = true;
    });
    const release = (): void => {
      const pending = this.#pendingWrite;
      this.#pendingWrite = null;
      pending?.();
    };
    child.stdin.on('drain', release);
    child.stdin.on('close', release);
    child.stderr.on('data', (d: Buffer) => {
      if (this.#stderr.length < STDERR_KEEP) this.#stderr += d.toString('utf8').slice(0, STDERR_KEEP);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.destroyed && !this.push(chunk)) child.stdout.pause();
    });
    child.on('exit', (code, signal) => {
      this.#exited = true;
      this.#exitCode = code;
      this.#exitSignal = signal;
    });
    // Settled on 'close', not 'exit': only then has all of stdout been pushed and
    // all of stderr read, so a failure's error carries the program's own words.
    child.on('close', () => {
      this.#closed = true;
      this.#settle();
    });
  }

  #settle(): void {
    if (!this.#closed || this.destroyed) return;
    // A filter reads to the end of its input: exiting 0 before we ended it means bytes went unread.
    if (this.#exitCode === 0 && this.#inputEnded && !this.#inputDropped) {
      this.push(null);
      return;
    }
    const status =
      this.#exitCode === 0
        ? 'status 0 before reading all its input'
        : this.#exitSignal !== null
          ? `signal ${this.#exitSignal}`
          : `status ${this.#exitCode}`;
    const detail = this.#stderr.trim().split('\n').slice(-3).join(' | ');
    this.destroy(
      new CompressionError(
        this.#options.failureCode,
        `${this.#options.what} failed (${this.#options.program} exited with ${status})`,
        {
          found: detail === '' ? undefined : JSON.stringify(detail),
        },
      ),
    );
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  override _read(): void {
    this.#child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#exited || this.#child.stdin.destroyed) {
      this.#inputDropped = true; // reported when the exit settles the stream
      callback();
      return;
    }
    if (this.#child.stdin.write(chunk)) callback();
    else this.#pendingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inputEnded = true;
    this.#child.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#exited) this.#child.kill('SIGKILL');
    this.#child.stdout.destroy();
    this.#child.stdin.destroy();
    callback(error);
  }
}
