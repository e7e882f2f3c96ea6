// One handshaken connection and the operations on it, in the daemon's
// dialect. One operation at a time: callers (the pool) serialise.
import { encodeBytes, encodeStringList, encodeU64 } from '../wire/byte-writer.js';
import type { PathInfo } from './build-daemon.js';
import type { DaemonOptions } from './build-daemon.js';
import { DaemonConnection } from './connection.js';
import { MAX_PATH, MAX_TEXT, Op, protocolMinor } from './constants.js';
import { DaemonProtocolError } from './errors.js';
import { handshake, type DaemonInfo } from './handshake.js';
import { stderrEvents, type StderrEvent } from './stderr.js';

/** A connection after its handshake, with the simple operations of both dialects. */
export class DaemonSession {
  readonly conn: DaemonConnection;
  readonly info: DaemonInfo;
  /** Set when an operation failed halfway: the session must not be reused. */
  broken = false;
  /** Set once set-options turned on guix-daemon's build traces and multiplexed build output. */
  buildTraces = false;

  private constructor(conn: DaemonConnection, info: DaemonInfo) {
    this.conn = conn;
    this.info = info;
  }

  /** Connects to `socketPath` and performs the handshake. */
  static async open(socketPath: string): Promise<DaemonSession> {
    const conn = await DaemonConnection.open(socketPath);
    try {
      return new DaemonSession(conn, await handshake(conn));
    } catch (error) {
      conn.close();
      throw error;
    }
  }

  /** Minor protocol version in use. */
  get minor(): number {
    return protocolMinor(this.info.protocolVersion);
  }

  /** Sends an operation and its arguments. */
  request(op: number, ...args: Uint8Array[]): void {
    this.conn.send(encodeU64(op), ...args);
  }

  /** Reads stderr messages up to STDERR_LAST, passing each to `onEvent` (text is ignored by default). */
  async finish(operation: string, onEvent?: (event: StderrEvent) => void | Promise<void>): Promise<void> {
    for await (const event of stderrEvents(this.conn.reader, this.info, operation)) {
      if (event.kind === 'read' || event.kind === 'write') {
        if (onEvent === undefined) {
          throw new DaemonProtocolError(
            'unexpected-message',
            `the daemon asked to transfer data during ${operation}`,
            {
              found: event.kind,
            },
          );
        }
      }
      if (onEvent !== undefined) await onEvent(event);
    }
  }

  /** Sets the session's options (op 19), in the dialect's layout. */
  async setOptions(options: DaemonOptions): Promise<void> {
    const int = (v: number | boolean | undefined, fallback: number): Uint8Array =>
      encodeU64(v === undefined ? fallback : typeof v === 'boolean' ? Number(v) : v);
    const overrides: [string, string][] = [];
    const guix = this.info.dialect === 'guix';
    const head = [
      int(options.keepFailed, 0),
      int(options.keepGoing, 0),
      int(options.fallback, 0),
      int(options.verbosity, 0),
    ];
    const body: Uint8Array[] = [];
    if (guix) {
      // guix-daemon ≥ 0x61 takes jobs, silence and cores only as overrides. Flat log type
      // (2: no "|   " nesting prefixes), build traces on, and builder output framed
      // (`@ build-log PID LEN`), to tell it from the daemon's own messages.
      body.push(encodeU64(0), encodeU64(0), encodeU64(2), encodeU64(1), int(options.useSubstitutes, 0));
      overrides.push(['multiplexed-build-output', 'true']);
      if (options.maxBuildJobs !== undefined)
        overrides.push(['build-max-jobs', String(options.maxBuildJobs)]);
      if (options.maxSilentTime !== undefined)
        overrides.push(['build-max-silent-time', String(options.maxSilentTime)]);
      if (options.buildCores !== undefined) overrides.push(['build-cores', String(options.buildCores)]);
      if (options.timeout !== undefined) overrides.push(['build-timeout', String(options.timeout)]);
    } else {
      // max jobs, max silent time, obsolete use-build-hook, verbose build (0 = lvlError: show
      // build output), obsolete log type and print-build-trace, cores, substitutes.
      body.push(int(options.maxBuildJobs, 1), int(options.maxSilentTime, 0), encodeU64(0), encodeU64(0));
      body.push(encodeU64(0), encodeU64(0), int(options.buildCores, 0), int(options.useSubstitutes, 0));
      if (options.timeout !== undefined) overrides.push(['timeout', String(options.timeout)]);
    }
    for (const [k, v] of Object.entries(options.overrides ?? {})) overrides.push([k, v]);
    const pairs = overrides.flatMap(([k, v]) => [encodeBytes(k), encodeBytes(v)]);
    this.request(Op.SetOptions, ...head, ...body, encodeU64(overrides.length), ...pairs);
    await this.finish('set-options');
    this.buildTraces = guix;
  }

  /** is-valid-path (op 1). */
  async isValidPath(path: string): Promise<boolean> {
    this.request(Op.IsValidPath, encodeBytes(path));
    await this.finish('is-valid-path');
    return (await this.conn.reader.readU64('validity')) !== 0;
  }

  /** query-valid-paths (op 31); Nix ≥ 1.27 also gets "do not substitute". */
  async queryValidPaths(paths: readonly string[]): Promise<string[]> {
    const extra = this.info.dialect === 'nix' && this.minor >= 27 ? [encodeU64(0)] : [];
    this.request(Op.QueryValidPaths, encodeStringList(paths), ...extra);
    await this.finish('query-valid-paths');
    return this.readStrings('valid path');
  }

  /** query-path-info (op 26); null when the path is not valid. */
  async queryPathInfo(path: string): Promise<PathInfo | null> {
    // guix-daemon has no "valid" flag and errors on an invalid path: ask first.
    if (this.info.dialect === 'guix' && !(await this.isValidPath(path))) return null;
    this.request(Op.QueryPathInfo, encodeBytes(path));
    await this.finish('query-path-info');
    const r = this.conn.reader;
    if (this.info.dialect === 'nix' && (await r.readU64('validity')) === 0) return null;
    const deriver = await r.readString(MAX_PATH, 'deriver');
    const narHash = await r.readString(MAX_PATH, 'NAR hash');
    const references = (await this.readStrings('reference')).sort();
    const registrationTime = await r.readU64('registration time');
    const narSize = await r.readU64('NAR size');
    let ultimate = false;
    let sigs: string[] = [];
    let ca: string | null = null;
    if (this.info.dialect === 'nix' && this.minor >= 16) {
      ultimate = (await r.readU64('ultimate flag')) !== 0;
      sigs = await this.readStrings('signature');
      ca = (await r.readString(MAX_TEXT, 'content address')) || null;
    }
    return {
      path,
      deriver: deriver || null,
      narHash,
      references,
      registrationTime,
      narSize,
      ultimate,
      sigs,
      ca,
    };
  }

  /** add-text-to-store (op 8): returns the store path the daemon made. */
  async addTextToStore(
    name: string,
    text: string | Uint8Array,
    references: readonly string[],
  ): Promise<string> {
    this.request(Op.AddTextToStore, encodeBytes(name), encodeBytes(text), encodeStringList(references));
    await this.finish('add-text-to-store');
    return this.conn.reader.readString(MAX_PATH, 'store path');
  }

  /** add-temp-root (op 11): the root lives as long as this connection. */
  async addTempRoot(path: string): Promise<void> {
    this.request(Op.AddTempRoot, encodeBytes(path));
    await this.finish('add-temp-root');
    await this.conn.reader.readU64('acknowledgement');
  }

  /** Reads a count-prefixed list of strings. */
  async readStrings(what: string): Promise<string[]> {
    const count = await this.conn.reader.readU64(`${what} count`);
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(await this.conn.reader.readString(MAX_TEXT, what));
    return out;
  }

  /** Closes the connection. */
  close(): void {
    this.conn.close();
  }
}
