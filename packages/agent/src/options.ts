// The agent's options and their defaults.
import { availableParallelism } from 'node:os';
import type { BuildDaemon } from '@gbc/store';
import type { UploadCompression } from './compression.js';
import { AgentError } from './errors.js';
import { DEFAULT_GUIX_SIGNING_KEY } from './guix-signing.js';
import type { RetryPolicy } from './retry.js';
import type { TimeLimitCaps } from './time-limits.js';
import { defaultSystem } from './system.js';
import type { AgentTimers } from './timers.js';
import { systemTimers } from './timers.js';

/**
 * How the agent authenticates. Exactly one of: `uuid` + `password`;
 * `uuid` + `passwordFile`; `name` + `token`; `name` + `tokenFile`. A
 * dynamic-auth session's credentials are kept in the state file and reused.
 */
export interface AgentAuthOptions {
  readonly uuid?: string;
  readonly password?: string;
  readonly passwordFile?: string;
  readonly name?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  /** Sent with a dynamic-auth session (creating the agent). */
  readonly description?: string;
}

/** Options of `createAgent`. Only `coordinatorUrl`, authentication and `stateDir` are required. */
export interface AgentOptions extends AgentAuthOptions {
  /** The coordinator's agent URL, e.g. `http://coordinator:8745`. */
  readonly coordinatorUrl: string;
  /** Where credentials, undelivered results and upload spool files live. */
  readonly stateDir: string;
  /**
   * Systems to build. Default: the machine's own Nix system name from Node's
   * platform and architecture (`x86_64-linux`, `aarch64-linux`, …), which is
   * what `builtins.currentSystem` gives: the daemon protocol has no query for it.
   */
  readonly systems?: readonly string[];
  /** Builds run at once. Default 1. */
  readonly maxParallelBuilds?: number;
  /** Output uploads at once. Default 2. */
  readonly maxParallelUploads?: number;
  /** Builds held at most (set up, building, uploading, waiting). Default `maxParallelBuilds`. */
  readonly maxAllocatedBuilds?: number;
  /** Fetch no builds while the 1-minute load average is above this. Default: the number of cores. */
  readonly maxLoad1?: number;
  /**
   * Binary caches (http or https) for `.drv` files, as the original agent's
   * `--derivation-substitute-urls`: a derivation of the build's closure whose
   * text the coordinator cannot give is fetched from these (narinfo and NAR,
   * its NarHash checked), then checked against its path like any other.
   */
  readonly derivationSubstituteUrls?: readonly string[];
  /**
   * Binary caches (http or https) for every other store item a build needs
   * (outputs of its input derivations, its sources), as the original agent's
   * `--non-derivation-substitute-urls`; tried in order after the coordinator's cache.
   */
  readonly nonDerivationSubstituteUrls?: readonly string[];
  /** Compression of uploaded NARs. Default `zstd`. */
  readonly uploadCompression?: UploadCompression;
  /**
   * NARs smaller than this are uploaded uncompressed, in bytes. Default 16 KiB:
   * compressing a few hundred bytes saves nothing and costs a compressor
   * process on the agent and a decompressor on the coordinator (measured: it
   * doubled the wall time of 200 one-line builds, see BENCHMARKS.md). 0 compresses all.
   */
  readonly compressAboveBytes?: number;
  /** The daemon socket (`unix:///path` or a path). Default the nix-daemon's. */
  readonly daemonSocket?: string;
  /** The daemon's store directory. Default `/nix/store` (Guix: `/gnu/store`). */
  readonly storeDir?: string;
  /**
   * The Guix secret key that signs every NAR the agent imports into a
   * guix-daemon (which refuses unsigned imports, even from root); its public
   * half must be in the build machine's /etc/guix/acl (`guix archive
   * --authorize`). Read once at start; unused with nix-daemon. Default
   * `/etc/guix/signing-key.sec`.
   */
  readonly guixSigningKeyFile?: string;
  /** A daemon client to use instead of opening one (the agent does not close it). Builds then run without time limits: the daemon applies them per connection, and the agent opens one per limited build only from a socket. */
  readonly daemon?: BuildDaemon;
  /** Upper bound on any build's wall-clock time, in seconds, whatever the coordinator sends. Default none. */
  readonly maxBuildTimeoutSeconds?: number;
  /** Upper bound on any build's time without log output, in seconds, whatever the coordinator sends. Default none. */
  readonly maxBuildSilentSeconds?: number;
  /** Time between status reports in ms. Default: every 3 s while builds are held (so cancels arrive promptly), else a third of the lease the coordinator announces, at most 60 s. */
  readonly statusIntervalMs?: number;
  /** Time between fetches when nothing came, in ms. Default 2000. */
  readonly pollIntervalMs?: number;
  /** Grace period of `stop(true)` in ms: builds still running after it are aborted. Default 10 minutes. */
  readonly gracePeriodMs?: number;
  /** Backoff of calls to the coordinator. */
  readonly retry?: RetryPolicy;
  /** Clock, sleeping and jitter; default the real ones. */
  readonly timers?: AgentTimers;
  /** Called with progress messages (default: none). */
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** The options with every default applied. */
export type ResolvedAgentOptions = Required<
  Omit<
    AgentOptions,
    keyof AgentAuthOptions | keyof TimeLimitCaps | 'daemon' | 'statusIntervalMs' | 'daemonSocket'
  >
> &
  AgentAuthOptions &
  TimeLimitCaps & {
    readonly daemon?: BuildDaemon;
    readonly statusIntervalMs?: number;
    readonly daemonSocket?: string;
  };

/** Fills in the defaults documented on {@link AgentOptions}; throws AgentError `bad-options`. */
export function resolveAgentOptions(o: AgentOptions): ResolvedAgentOptions {
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    const n = v ?? dflt;
    if (!Number.isFinite(n) || n <= 0)
      throw new AgentError('bad-options', `${name} must be a positive number, got ${String(v)}`);
    return n;
  };
  const maxParallelBuilds = positive('maxParallelBuilds', o.maxParallelBuilds, 1);
  const cap = (name: string, v: number | undefined): number | undefined => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0))
      throw new AgentError(
        'bad-options',
        `${name} must be a positive whole number of seconds, got ${String(v)}`,
      );
    return v;
  };
  const auth = [
    o.password !== undefined || o.passwordFile !== undefined,
    o.token !== undefined || o.tokenFile !== undefined,
  ];
  if (auth[0] === auth[1])
    throw new AgentError(
      'bad-options',
      'give either uuid with password/passwordFile, or name with token/tokenFile',
    );
  if (auth[0] && o.uuid === undefined) throw new AgentError('bad-options', 'a password needs the agent uuid');
  if (auth[1] && o.name === undefined)
    throw new AgentError('bad-options', 'a dynamic-auth token needs an agent name');
  return {
    ...o,
    systems: o.systems !== undefined && o.systems.length > 0 ? o.systems : [defaultSystem()],
    maxParallelBuilds,
    maxParallelUploads: positive('maxParallelUploads', o.maxParallelUploads, 2),
    maxAllocatedBuilds: positive('maxAllocatedBuilds', o.maxAllocatedBuilds, maxParallelBuilds),
    maxLoad1: positive('maxLoad1', o.maxLoad1, availableParallelism()),
    derivationSubstituteUrls: substituteUrls('derivationSubstituteUrls', o.derivationSubstituteUrls),
    nonDerivationSubstituteUrls: substituteUrls('nonDerivationSubstituteUrls', o.nonDerivationSubstituteUrls),
    uploadCompression: o.uploadCompression ?? 'zstd',
    compressAboveBytes: o.compressAboveBytes ?? 16 * 1024,
    storeDir: o.storeDir ?? '/nix/store',
    guixSigningKeyFile: o.guixSigningKeyFile ?? DEFAULT_GUIX_SIGNING_KEY,
    pollIntervalMs: positive('pollIntervalMs', o.pollIntervalMs, 2000),
    gracePeriodMs: positive('gracePeriodMs', o.gracePeriodMs, 600_000),
    maxBuildTimeoutSeconds: cap('maxBuildTimeoutSeconds', o.maxBuildTimeoutSeconds),
    maxBuildSilentSeconds: cap('maxBuildSilentSeconds', o.maxBuildSilentSeconds),
    retry: o.retry ?? {},
    timers: o.timers ?? systemTimers,
    log: o.log ?? (() => undefined),
  };
}

/** Binary cache URLs: each an absolute http or https URL (no credentials), else AgentError `bad-options`. */
function substituteUrls(name: string, urls: readonly string[] | undefined): readonly string[] {
  for (const u of urls ?? []) {
    let url: URL | undefined;
    try {
      url = new URL(u);
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.username !== '' ||
      url.password !== ''
    ) {
      throw new AgentError(
        'bad-options',
        `${name}: ${JSON.stringify(u.slice(0, 200))} is not an http or https URL`,
      );
    }
  }
  return urls ?? [];
}
