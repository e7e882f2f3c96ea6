// Temporary GC roots shared by builds that start close together. The daemon
// holds a client's temporary roots until its connection closes, so each build
// had a connection of its own for them: a handshake and a forked daemon
// process per build. Builds now share the connection of the current
// generation. A generation takes no new builds once it is `maxAgeMs` old, and
// closes (dropping its roots) when it is that old and its last build is done:
// a root outlives its build by at most the age limit, or by the rest of the
// longest build it shares its generation with.
import { TempRoots } from '@gbc/store';

/** One build's use of the shared roots. */
export interface RootsLease {
  /** Protects `path` from garbage collection until the generation closes (not before `release`). */
  add(path: string): Promise<void>;
  /** The build no longer needs its roots (idempotent). */
  release(): void;
}

interface Generation {
  readonly roots: TempRoots;
  readonly started: number;
  users: number;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Roots on the daemon at `socketPath`, one connection per generation. */
export class SharedTempRoots {
  readonly #socketPath: string;
  readonly #maxAgeMs: number;
  #current: Generation | undefined;

  constructor(socketPath: string, maxAgeMs = 60_000) {
    this.#socketPath = socketPath;
    this.#maxAgeMs = maxAgeMs;
  }

  /** A lease on the current generation (a new one if there is none, or it is too old). */
  acquire(): RootsLease {
    let gen = this.#current;
    if (gen === undefined || performance.now() - gen.started >= this.#maxAgeMs) {
      if (gen !== undefined) this.#retire(gen);
      gen = {
        roots: new TempRoots(this.#socketPath),
        started: performance.now(),
        users: 0,
        closed: false,
        timer: undefined,
      };
      this.#current = gen;
    }
    const mine = gen;
    mine.users += 1;
    clearTimeout(mine.timer);
    let released = false;
    return {
      add: (path) => mine.roots.add(path),
      release: () => {
        if (released) return;
        released = true;
        mine.users -= 1;
        if (mine.users > 0) return;
        if (mine !== this.#current) this.#close(mine);
        else {
          // Idle: close once it is old enough, unless a build takes it up again.
          const left = this.#maxAgeMs - (performance.now() - mine.started);
          if (left <= 0) this.#retire(mine);
          else mine.timer = setTimeout(() => mine.users === 0 && this.#retire(mine), left).unref();
        }
      },
    };
  }

  /** Drops every root of idle generations now; busy ones close when their builds are done. */
  close(): void {
    if (this.#current !== undefined) this.#retire(this.#current);
  }

  /** The generation takes no new builds, and closes once idle. */
  #retire(gen: Generation): void {
    if (this.#current === gen) this.#current = undefined;
    if (gen.users === 0) this.#close(gen);
  }

  #close(gen: Generation): void {
    if (gen.closed) return;
    gen.closed = true;
    clearTimeout(gen.timer);
    gen.roots.release();
  }
}
