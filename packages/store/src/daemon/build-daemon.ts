// The BuildDaemon interface: what an agent needs from its machine's build
// daemon, with plain strings for store paths so any caller can use it.
import type { GuixSecretKey } from '../signature/guix/guix-key.js';
import type { ByteSource } from '../wire/byte-reader.js';
import type { BasicDerivation } from './build-derivation.js';
import type { TimeLimit } from './build-trace.js';
import type { BuildModeName } from './constants.js';
import type { DaemonInfo } from './handshake.js';

/** Metadata of a valid store path, as the daemon reports it. */
export interface PathInfo {
  readonly path: string;
  /** The derivation that produced it, or null. */
  readonly deriver: string | null;
  /** SHA-256 of the path's NAR, bare base16 (64 hex digits), as the daemon sends it. */
  readonly narHash: string;
  /** Full store paths it refers to, sorted. */
  readonly references: readonly string[];
  /** Seconds since the epoch. */
  readonly registrationTime: number;
  /** NAR size in bytes. */
  readonly narSize: number;
  /** Built locally rather than substituted (Nix only; false from Guix). */
  readonly ultimate: boolean;
  /** Signatures (`name:base64`); empty from Guix. */
  readonly sigs: readonly string[];
  /** Content address (`fixed:r:sha256:…`, `text:sha256:…`) or null. */
  readonly ca: string | null;
}

/** What to register with a NAR that is added to the store. */
export interface NarImport {
  readonly path: string;
  readonly deriver?: string | null;
  /** SHA-256 of the NAR, bare base16. */
  readonly narHash: string;
  readonly references: readonly string[];
  /** NAR size in bytes. */
  readonly narSize: number;
  /** Seconds since the epoch; default 0 (the daemon uses now). */
  readonly registrationTime?: number;
  readonly sigs?: readonly string[];
  readonly ca?: string | null;
  /**
   * Guix only: a precomputed export signature (the s-expression over the
   * NAR and trailer, see guixImportSignature), which guix-daemon requires
   * even from root. Without it or `guixSigningKey` Guix refuses the import.
   */
  readonly guixSignature?: Uint8Array | string;
  /**
   * Guix only: a key (authorised in the daemon's /etc/guix/acl) to sign the
   * import with while the NAR streams; takes precedence over `guixSignature`.
   */
  readonly guixSigningKey?: GuixSecretKey;
}

/** Daemon settings for this client's session. Times are seconds; 0 means no limit. */
export interface DaemonOptions {
  /** Keep the build directory of failed builds. Default false. */
  readonly keepFailed?: boolean;
  /** Go on with other derivations after one fails. Default false. */
  readonly keepGoing?: boolean;
  /** Build from source when substitution fails. Default false. */
  readonly fallback?: boolean;
  /** Verbosity of daemon messages, 0 (errors) to 7 (vomit). Default 0. */
  readonly verbosity?: number;
  /** Builds the daemon may run at once. Default 1. */
  readonly maxBuildJobs?: number;
  /** Kill a build silent for this long. Default 0. */
  readonly maxSilentTime?: number;
  /** Kill a build running longer than this. Default 0. */
  readonly timeout?: number;
  /** Cores a builder may use (NIX_BUILD_CORES); 0 means all. Default 0. */
  readonly buildCores?: number;
  /** Let the daemon substitute. Default false: an agent's inputs come from the coordinator. */
  readonly useSubstitutes?: boolean;
  /** Further daemon settings passed verbatim (Nix: `sandbox`…; Guix: `build-repeat`…). */
  readonly overrides?: Readonly<Record<string, string>>;
}

/** One line of output during a build. */
export interface LogLine {
  /** The text, without the trailing newline. */
  readonly text: string;
  /**
   * `build`: a line a builder printed (Nix log-line results; guix-daemon's
   * multiplexed `@ build-log` frames); `daemon`: the daemon's own messages
   * (`building path(s) …`, errors). guix-daemon's build traces (`@ build-…`)
   * are not passed on.
   */
  readonly source: 'build' | 'daemon';
}

/** How a build ended, in Nix's BuildResult terms. */
export type BuildStatus =
  | 'built'
  | 'substituted'
  | 'already-valid'
  | 'permanent-failure'
  | 'input-rejected'
  | 'output-rejected'
  | 'transient-failure'
  | 'cached-failure'
  | 'timed-out'
  | 'misc-failure'
  | 'dependency-failed'
  | 'log-limit-exceeded'
  | 'not-deterministic'
  | 'resolves-to-already-valid'
  | 'no-substituters'
  | 'unknown';

/** The outcome of a build: success, or failure with the daemon's message. */
export interface BuildResult {
  readonly success: boolean;
  readonly status: BuildStatus;
  /** The daemon's numeric status: Nix BuildResult status, or Guix's error status (100+ for build failures). */
  readonly statusCode: number;
  /** The daemon's error message; empty on success. */
  readonly errorMessage: string;
  /**
   * Seconds since the epoch: from the daemon's result (Nix ≥ 1.29), or, with
   * guix-daemon, when its `build-started` / `build-succeeded|failed` traces
   * for this derivation arrived; null when not known (nothing was built).
   */
  readonly startTime: number | null;
  readonly stopTime: number | null;
  /**
   * For `timed-out`: which limit fired, as the daemon's own message says
   * (`… timed out after N seconds of silence` is `max-silent-time`, `… after N
   * seconds` is `timeout`); absent when it did not say.
   */
  readonly timeLimit?: TimeLimit;
}

/** Options of one build. */
export interface BuildRequest {
  /** Outputs to build; default all. */
  readonly outputs?: readonly string[];
  /** Default `normal`. */
  readonly mode?: BuildModeName;
  /** Called for each log line as it arrives. */
  readonly onLog?: (line: LogLine) => void;
  /**
   * Aborts the build: the connection is closed, which makes the daemon kill
   * the builder; the call rejects with DaemonProtocolError `aborted`.
   */
  readonly signal?: AbortSignal;
}

/** What the agent needs from a build daemon. Store paths are plain strings. */
export interface BuildDaemon {
  /** The store directory, e.g. `/gnu/store` or `/nix/store`. */
  readonly storeDir: string;
  /** What the handshake found (dialect, versions). */
  info(): Promise<DaemonInfo>;
  /** Applies settings to every connection from now on. */
  setOptions(options: DaemonOptions): Promise<void>;
  isValidPath(path: string): Promise<boolean>;
  /** The subset of `paths` that is valid. */
  queryValidPaths(paths: readonly string[]): Promise<string[]>;
  /** Metadata of a path, or null when it is not valid. */
  queryPathInfo(path: string): Promise<PathInfo | null>;
  /** Adds text (a derivation) with its references; returns its store path. */
  addTextToStore(name: string, text: string | Uint8Array, references: readonly string[]): Promise<string>;
  /** Adds one NAR under `info.path` (Nix AddToStoreNar; Guix import-paths). */
  addNar(info: NarImport, nar: ByteSource): Promise<void>;
  /** Streams a valid path as a NAR (Nix NarFromPath; Guix export-path). */
  dumpPath(path: string): AsyncGenerator<Uint8Array>;
  /** Builds a derivation; a builder failure is a result, not an exception. */
  build(drvPath: string, request?: BuildRequest): Promise<BuildResult>;
  /**
   * Builds from the derivation itself (Nix's BuildDerivation): no .drv in the
   * store needed, inputs must be valid. guix-daemon lacks it: DaemonProtocolError
   * `unsupported-operation`.
   */
  buildDerivation(drvPath: string, drv: BasicDerivation, request?: BuildRequest): Promise<BuildResult>;
  /** Protects a path from garbage collection while this client's connection lives. */
  addTempRoot(path: string): Promise<void>;
  /** Closes every connection. */
  close(): Promise<void>;
}
