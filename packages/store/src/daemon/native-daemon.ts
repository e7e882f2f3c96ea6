// The native BuildDaemon: a small pool of worker-protocol connections to one
// daemon socket. Each operation borrows one connection for its whole length.
import type { ByteSource } from '../wire/byte-reader.js';
import { buildOn } from './build.js';
import { buildDerivationOn, type BasicDerivation } from './build-derivation.js';
import type {
  BuildDaemon,
  BuildRequest,
  BuildResult,
  DaemonOptions,
  NarImport,
  PathInfo,
} from './build-daemon.js';
import { socketPathOf } from './connection.js';
import { DaemonProtocolError } from './errors.js';
import type { DaemonInfo } from './handshake.js';
import { addNarOn, dumpPathOn } from './nar-transfer.js';
import { DaemonSession } from './session.js';
import { TempRoots } from './temp-roots.js';

/** How to reach a daemon. */
export interface NativeDaemonOptions {
  /** `unix:///path`, a socket path, or undefined for `/nix/var/nix/daemon-socket/socket`. */
  readonly socket?: string;
  /** The daemon's store directory (`/gnu/store`, `/nix/store`); default `/nix/store`. */
  readonly storeDir?: string;
  /**
   * Connections kept at most (default 4). Builds hold one for their whole
   * length, so set it above the number of parallel builds plus one.
   */
  readonly maxConnections?: number;
}

/**
 * BuildDaemon over the daemon's Unix socket. Connections open on demand up to
 * `maxConnections` and are reused; a connection on which an operation failed
 * is closed rather than reused. Options set with `setOptions` are sent on
 * every connection before its next operation.
 */
export class NativeBuildDaemon implements BuildDaemon {
  readonly storeDir: string;
  readonly socketPath: string;
  readonly #max: number;
  readonly #idle: DaemonSession[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly #applied = new WeakMap<DaemonSession, number>();
  #open = 0;
  #options: DaemonOptions | undefined;
  #generation = 0;
  #roots: TempRoots | undefined;
  #closed = false;

  constructor(options: NativeDaemonOptions = {}) {
    this.socketPath = socketPathOf(options.socket);
    this.storeDir = options.storeDir ?? '/nix/store';
    this.#max = Math.max(1, options.maxConnections ?? 4);
  }

  async #acquire(): Promise<DaemonSession> {
    for (;;) {
      if (this.#closed) {
        throw new DaemonProtocolError('closed', 'this BuildDaemon is closed', {
          expected: 'an operation before close()',
        });
      }
      const idle = this.#idle.pop();
      if (idle !== undefined) return idle;
      if (this.#open < this.#max) {
        this.#open++;
        try {
          return await DaemonSession.open(this.socketPath);
        } catch (error) {
          this.#release(undefined);
          throw error;
        }
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #release(session: DaemonSession | undefined): void {
    if (session !== undefined && !session.broken && !session.conn.closed && !this.#closed)
      this.#idle.push(session);
    else {
      session?.close();
      this.#open--;
    }
    this.#waiters.shift()?.();
  }

  /** Runs `fn` on a borrowed connection with the current options applied. */
  async #with<T>(fn: (session: DaemonSession) => Promise<T>): Promise<T> {
    const session = await this.#acquire();
    try {
      if (this.#options !== undefined && this.#applied.get(session) !== this.#generation) {
        await session.setOptions(this.#options);
        this.#applied.set(session, this.#generation);
      }
      return await fn(session);
    } catch (error) {
      // Refusing an operation the dialect lacks sends nothing: the connection stays good.
      if (!(error instanceof DaemonProtocolError && error.code === 'unsupported-operation'))
        session.broken = true;
      throw error;
    } finally {
      this.#release(session);
    }
  }

  /** Connections open now (borrowed and idle; the temp-root connections not counted). */
  get openConnections(): number {
    return this.#open;
  }

  /** What the handshake found. */
  info(): Promise<DaemonInfo> {
    return this.#with((s) => Promise.resolve(s.info));
  }

  /** Stores the options; each connection gets them before its next operation. */
  async setOptions(options: DaemonOptions): Promise<void> {
    this.#options = options;
    this.#generation++;
    // Apply once now so that a refused option is reported here.
    await this.#with(() => Promise.resolve());
  }

  isValidPath(path: string): Promise<boolean> {
    return this.#with((s) => s.isValidPath(path));
  }

  queryValidPaths(paths: readonly string[]): Promise<string[]> {
    return this.#with((s) => s.queryValidPaths(paths));
  }

  queryPathInfo(path: string): Promise<PathInfo | null> {
    return this.#with((s) => s.queryPathInfo(path));
  }

  addTextToStore(name: string, text: string | Uint8Array, references: readonly string[]): Promise<string> {
    return this.#with((s) => s.addTextToStore(name, text, references));
  }

  addNar(info: NarImport, nar: ByteSource): Promise<void> {
    return this.#with((s) => addNarOn(s, info, nar));
  }

  async *dumpPath(path: string): AsyncGenerator<Uint8Array> {
    const session = await this.#acquire();
    try {
      if (this.#options !== undefined && this.#applied.get(session) !== this.#generation) {
        await session.setOptions(this.#options);
        this.#applied.set(session, this.#generation);
      }
      yield* dumpPathOn(session, path);
    } catch (error) {
      session.broken = true;
      throw error;
    } finally {
      this.#release(session);
    }
  }

  build(drvPath: string, request?: BuildRequest): Promise<BuildResult> {
    return this.#with((s) => buildOn(s, drvPath, request));
  }

  /** BuildDerivation (Nix only): builds without the .drv in the store; inputs must be valid. */
  buildDerivation(drvPath: string, drv: BasicDerivation, request?: BuildRequest): Promise<BuildResult> {
    return this.#with((s) => buildDerivationOn(s, drvPath, drv, request));
  }

  /** Adds a root held until `close()`; use `openTempRoots` for roots with their own lifetime. */
  async addTempRoot(path: string): Promise<void> {
    this.#roots ??= new TempRoots(this.socketPath);
    await this.#roots.add(path);
  }

  /** A set of temporary roots on a dedicated connection, released together. */
  openTempRoots(): TempRoots {
    return new TempRoots(this.socketPath);
  }

  /** Closes every idle connection and the root connection; borrowed ones close when returned. */
  close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#idle.splice(0)) {
      s.close();
      this.#open--;
    }
    this.#roots?.release();
    for (const wake of this.#waiters.splice(0)) wake();
    return Promise.resolve();
  }
}

/** Creates a native BuildDaemon (no connection is made until the first operation). */
export function createBuildDaemon(options: NativeDaemonOptions = {}): NativeBuildDaemon {
  return new NativeBuildDaemon(options);
}
