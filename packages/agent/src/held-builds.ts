// The builds an agent holds: each runs on its own, from its allocation until
// its result is delivered, and can be aborted with a reason (canceled, lease
// lost, stopping). A build is held until its run ends, however it ends.
import type { AllocatedBuild } from '@gbc/protocol';
import type { AbortReason } from './run-build.js';

/** One held build. */
interface Held {
  readonly build: AllocatedBuild;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

/** A build's whole run (build and delivery); it ends early when `signal` aborts. */
export type BuildWork = (build: AllocatedBuild, signal: AbortSignal) => Promise<void>;

/** The agent's held builds. */
export class HeldBuilds {
  readonly #held = new Map<string, Held>();
  readonly #onEnd: () => void;
  readonly #log: (message: string, fields?: Record<string, unknown>) => void;

  /** `onEnd` runs after each build's run ended and it is no longer held. */
  constructor(onEnd: () => void, log: (message: string, fields?: Record<string, unknown>) => void) {
    this.#onEnd = onEnd;
    this.#log = log;
  }

  /** How many builds are held. */
  get size(): number {
    return this.#held.size;
  }

  /** The uuids of the held builds. */
  ids(): string[] {
    return [...this.#held.keys()];
  }

  /** The held builds (uuid → the allocation), a copy. */
  snapshot(): Map<string, AllocatedBuild> {
    return new Map([...this.#held].map(([k, v]) => [k, v.build]));
  }

  /**
   * Holds `build` and runs `work` on it; a failure of the run is logged (the
   * run reports its own errors). Returns false, and runs nothing, when the
   * build is held already.
   */
  start(build: AllocatedBuild, work: BuildWork): boolean {
    if (this.#held.has(build.uuid)) return false;
    const abort = new AbortController();
    const done = work(build, abort.signal)
      .catch((error: unknown) => this.#log('build run failed', { build: build.uuid, error: String(error) }))
      .finally(() => {
        this.#held.delete(build.uuid);
        this.#onEnd();
      });
    this.#held.set(build.uuid, { build, abort, done });
    return true;
  }

  /** Aborts the held build `uuid` (nothing when it is not held). */
  abort(uuid: string, reason: AbortReason): void {
    this.#held.get(uuid)?.abort.abort(reason);
  }

  /** Aborts every held build. */
  abortAll(reason: AbortReason): void {
    for (const h of this.#held.values()) h.abort.abort(reason);
  }

  /** Resolves once every build held now has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.#held.values()].map((h) => h.done));
  }
}
