// What a build sends on the daemon's text channel (STDERR_NEXT), told apart:
// builder output framed by guix-daemon's multiplexed-build-output
// (`@ build-log PID LEN\n` and LEN bytes in one message), build traces
// (consumed, not logged), and the daemon's own messages.
import type { LogLine } from './build-daemon.js';
import { parseBuildTrace, timeLimitOf, type BuildTrace, type TimeLimit } from './build-trace.js';
import { ByteLineSplitter } from './line-splitter.js';

/** A frame header is at most this long (`@ build-log ` and two numbers). */
const MAX_HEADER = 64;
const HEADER = /^@ build-log ([0-9]{1,10}) ([0-9]{1,15})$/;
const PREFIX = Buffer.from('@ build-log ');
/** Builders whose partial lines are kept at once; the oldest is flushed past it. */
const MAX_BUILDERS = 256;

/** What the daemon's lines said about the derivation being built, for its result. */
export interface BuildObservations {
  /** When `@ build-started DRV` arrived (seconds since the epoch). */
  readonly startTime: number | undefined;
  /** When `@ build-succeeded DRV` / `@ build-failed DRV` arrived. */
  readonly stopTime: number | undefined;
  /** Whether any substitution started. */
  readonly substituted: boolean;
  /** Whether another derivation's build (a dependency) failed. */
  readonly otherFailed: boolean;
  /** The time limit the daemon said it enforced: on DRV, else on the first build it named. */
  readonly timeLimit: TimeLimit | undefined;
}

/**
 * Splits STDERR_NEXT messages into log lines: builder bytes become `build`
 * lines (one line splitter per builder PID), everything else `daemon`
 * lines, except trace lines, which are recorded for the derivation `drvPath`.
 * Malformed frames (no newline, a bogus PID or length, a length past the
 * message) are read as far as they go; nothing is carried from one message
 * to the next except partial lines, which are bounded, as is all the state.
 */
export class BuildOutput implements BuildObservations {
  startTime: number | undefined;
  stopTime: number | undefined;
  substituted = false;
  otherFailed = false;
  #ownLimit: TimeLimit | undefined;
  #otherLimit: TimeLimit | undefined;
  readonly #drvPath: string;
  readonly #emit: (line: LogLine) => void;
  readonly #now: () => number;
  readonly #builders = new Map<number, ByteLineSplitter>();
  /** Builder PID by derivation, from `build-started`, to flush its last line when it ends. */
  readonly #pids = new Map<string, number>();
  readonly #daemon: ByteLineSplitter;

  /** `now` gives seconds since the epoch (default: the system clock). */
  constructor(
    drvPath: string,
    emit: (line: LogLine) => void,
    now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.#drvPath = drvPath;
    this.#emit = emit;
    this.#now = now;
    this.#daemon = new ByteLineSplitter((text) => this.#daemonLine(text));
  }

  /** The limit named on this derivation, else the first one named on another. */
  get timeLimit(): TimeLimit | undefined {
    return this.#ownLimit ?? this.#otherLimit;
  }

  /** Takes one STDERR_NEXT message. */
  push(message: Uint8Array): void {
    const bytes = Buffer.from(message.buffer, message.byteOffset, message.length);
    if (bytes.length > PREFIX.length && bytes.subarray(0, PREFIX.length).equals(PREFIX)) {
      const nl = bytes.subarray(0, MAX_HEADER).indexOf(10);
      const header = nl < 0 ? null : HEADER.exec(bytes.toString('latin1', 0, nl));
      if (header !== null) {
        const pid = Number(header[1]);
        const payload = bytes.subarray(nl + 1);
        // A length past the message: take what is there (no frame spans two messages).
        const length = Math.min(Number(header[2]), payload.length);
        this.#builder(pid).push(payload.subarray(0, length));
        // Bytes after the frame are not the builder's.
        if (length < payload.length) this.#daemon.push(payload.subarray(length));
        return;
      }
    }
    this.#daemon.push(bytes);
  }

  /** Takes a line the builder printed, already whole (Nix log-line results). */
  builderLine(text: string): void {
    this.#emit({ text, source: 'build' });
  }

  /** Emits every unterminated line. */
  flush(): void {
    for (const splitter of this.#builders.values()) splitter.flush();
    this.#builders.clear();
    this.#daemon.flush();
  }

  #builder(pid: number): ByteLineSplitter {
    let splitter = this.#builders.get(pid);
    if (splitter === undefined) {
      if (this.#builders.size >= MAX_BUILDERS) {
        const [oldest, old] = this.#builders.entries().next().value as [number, ByteLineSplitter];
        old.flush();
        this.#builders.delete(oldest);
      }
      splitter = new ByteLineSplitter((text) => this.#emit({ text, source: 'build' }));
      this.#builders.set(pid, splitter);
    }
    return splitter;
  }

  #daemonLine(text: string): void {
    const trace = parseBuildTrace(text);
    if (trace === undefined) {
      const limit = timeLimitOf(text);
      if (limit !== undefined) {
        if (text.includes(`\`${this.#drvPath}'`) || text.includes(`'${this.#drvPath}'`))
          this.#ownLimit = limit;
        else this.#otherLimit ??= limit;
      }
      this.#emit({ text, source: 'daemon' });
      return;
    }
    this.#trace(trace);
  }

  #trace(trace: BuildTrace): void {
    switch (trace.kind) {
      case 'build-started':
        if (trace.drvPath === this.#drvPath) this.startTime = this.#now();
        if (this.#pids.size >= MAX_BUILDERS) this.#pids.delete(this.#pids.keys().next().value as string);
        this.#pids.set(trace.drvPath, trace.pid);
        break;
      case 'build-succeeded':
      case 'build-failed': {
        if (trace.drvPath === this.#drvPath) this.stopTime = this.#now();
        else if (trace.kind === 'build-failed') this.otherFailed = true;
        const pid = this.#pids.get(trace.drvPath);
        if (pid !== undefined) {
          this.#builders.get(pid)?.flush();
          this.#builders.delete(pid);
          this.#pids.delete(trace.drvPath);
        }
        break;
      }
      case 'substituter-started':
        this.substituted = true;
        break;
      default:
        break;
    }
  }
}
