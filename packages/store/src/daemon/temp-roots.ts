// Temporary GC roots: the daemon keeps them while the connection that added
// them lives, so each set has its own connection, closed on release.
import { DaemonSession } from './session.js';

/**
 * A set of temporary roots (add-temp-root, op 11) held on a dedicated
 * connection. If that connection drops, the next `add` reconnects and
 * re-adds every root; `release` frees them all.
 */
export class TempRoots {
  readonly #socketPath: string;
  readonly #paths = new Set<string>();
  #session: Promise<DaemonSession> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** Roots on the daemon listening at `socketPath`. */
  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  /** The paths currently held. */
  get paths(): readonly string[] {
    return [...this.#paths];
  }

  /** Protects `path` from garbage collection until `release`. Calls are serialised; a path held already costs no round trip. */
  add(path: string): Promise<void> {
    const run = this.#queue.then(async () => {
      let session = this.#session === undefined ? undefined : await this.#session.catch(() => undefined);
      if (session === undefined || session.broken || session.conn.closed) {
        this.#session = DaemonSession.open(this.#socketPath);
        session = await this.#session;
        for (const held of this.#paths) await session.addTempRoot(held);
      } else if (this.#paths.has(path)) {
        return; // held already on this live connection: no round trip
      }
      try {
        await session.addTempRoot(path);
      } catch (error) {
        session.broken = true;
        throw error;
      }
      this.#paths.add(path);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Drops every root by closing the connection. */
  release(): void {
    this.#paths.clear();
    const session = this.#session;
    this.#session = undefined;
    void session?.then((s) => s.close()).catch(() => undefined);
  }
}
