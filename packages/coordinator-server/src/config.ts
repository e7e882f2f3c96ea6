// The coordinator's configuration: what `createCoordinator` accepts, and the
// same with every default filled in (what the context carries).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { AllocationStrategy } from '@gbc/allocator';
import type { RetentionPolicy } from './retention/policy.js';
import { resolveRetentionPolicy } from './retention/policy.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { Logger } from './logger.js';
import type { StorageLocation } from './storage/open-storage.js';
import { createJsonLogger } from './logger.js';

/** Options of `createCoordinator`. Only `databaseUri` is required. */
export interface CoordinatorConfig {
  /** `sqlite://PATH`, `sqlite::memory:` or `postgres://…`. */
  readonly databaseUri: string;
  /** Where NARs, logs and partial uploads are kept. Default `./gbc-data`. */
  readonly dataDir?: string;
  /**
   * Where NARs and logs are kept instead: `s3://bucket/prefix?endpoint=…&region=…&path-style=…&presign=…`
   * (see storage/s3-location.ts; credentials from the AWS environment), or another
   * directory. Partial uploads and live logs stay in `dataDir`. Default: `dataDir`.
   */
  readonly storage?: string;
  /** SDK settings for an object store beyond its URL and the environment (explicit credentials, part size). */
  readonly s3?: StorageLocation['s3'];
  /**
   * The store directory of the farm: where the client API puts store items
   * named by basename (`PUT /derivation/{name}`, `PUT /source/{name}`), the
   * binary cache's `StoreDir:` and its `GET /log/{drv}`. Default `/gnu/store`.
   */
  readonly storeDir?: string;
  /** A built-in strategy name (`basic`, `derivation-ordered`, `fair-share`), a module path, or a strategy object. Default `basic`. */
  readonly allocationStrategy?: string | AllocationStrategy;
  /** How long an allocation or a started build lives without a status report, in seconds. Default 300. */
  readonly leaseSeconds?: number;
  /** How often expired leases are looked for, in ms. Default 5000. */
  readonly leaseCheckIntervalMs?: number;
  /** Apply pending migrations in `start()`. Default true. */
  readonly migrate?: boolean;
  /**
   * External substitute servers (e.g. `https://bordeaux.guix.gnu.org`) that
   * agents may fetch inputs from. Recorded and handed to agents' set-up; the
   * scheduler does not query them yet: an input counts as available only when
   * the coordinator holds it (output metadata) or a build of it succeeded.
   */
  readonly substituteUrls?: readonly string[];
  /** Largest JSON request body, in bytes. Default 16 MiB. */
  readonly jsonBodyBytes?: number;
  /** Largest number of builds a single fetch-builds hands out. Default 100. */
  readonly maxFetchCount?: number;
  /** Where the agent API listens (`listen`). Default `http://0.0.0.0:8745`. */
  readonly agentUrl?: string;
  /** Where the client API listens (`listen`). Default `http://127.0.0.1:8746`. */
  readonly clientUrl?: string;
  /** Where the binary cache also listens on a port of its own (`listen`). Default: only on the agent port. */
  readonly cacheUrl?: string;
  /**
   * How many processes answer on `cacheUrl`: this one and `cacheProcesses - 1`
   * helpers sharing its socket (cache/cache-processes.ts), each reading the
   * datastore and the storage and keeping its own narinfos ready. One Node
   * thread answers some 20,000 narinfos/s; a farm whose users' substitutions
   * need more sets about one per core, or `auto`: one per core this process
   * may use (`os.availableParallelism()`). Default 1 (no helper); at most 64.
   */
  readonly cacheProcesses?: number | 'auto';
  /**
   * Where `GET /metrics` listens on an address of its own (`listen`); the
   * agent port then no longer serves it (its gauges name every agent, by
   * UUID and name). Default: on the agent port.
   */
  readonly metricsUrl?: string;
  /**
   * Where the web dashboard is also served, read-only and without a login, on
   * an address of its own (`listen`): whoever reaches it sees what a read-only
   * client token sees, logs included, and can change nothing. Default: none.
   */
  readonly dashboardUrl?: string;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: JSON lines on standard error at `info`. */
  readonly logger?: Logger;
  /** Directory for relative `sqlite://` paths and strategy modules. Default `process.cwd()`. */
  readonly cwd?: string;
  /**
   * Client API authentication: `auto` (default) requires a bearer token once
   * any client token was ever created (revoking them all does not reopen the
   * API); `required` requires one always (create the first with
   * `createClientToken` / `gbc client-token new` on the coordinator host).
   */
  readonly clientAuth?: 'auto' | 'required';
  /** Let `listen` serve an unauthenticated client API beyond loopback. Default false. */
  readonly allowUnauthenticatedClients?: boolean;
  /** How long a verified client token (and whether auth is on) is trusted before the datastore is asked again, ms. Default 5000. */
  readonly clientTokenCacheMs?: number;
  /** Farm-wide default build timeout in seconds for builds submitted without one. Default none. */
  readonly buildTimeoutSeconds?: number;
  /** Farm-wide default max-silent-time in seconds for builds submitted without one. Default none. */
  readonly maxSilentTimeSeconds?: number;
  /** What retention keeps and removes (see retention/policy.ts). Default: keep everything. */
  readonly retention?: RetentionPolicy;
  /** How often the background retention task runs, seconds; 0 = never (on demand only). Default 0. */
  readonly retentionIntervalSeconds?: number;
  /** Partial uploads nobody resumed for this long are removed, seconds; 0 = never. Default 86400 (a day). */
  readonly partialUploadMaxAgeSeconds?: number;
}

/** The configuration with every default applied. */
export interface ResolvedConfig {
  readonly databaseUri: string;
  readonly dataDir: string;
  readonly storage: string | undefined;
  readonly s3: StorageLocation['s3'];
  /** Absolute, without a trailing slash. */
  readonly storeDir: string;
  readonly allocationStrategy: string | AllocationStrategy;
  readonly leaseSeconds: number;
  readonly leaseCheckIntervalMs: number;
  readonly migrate: boolean;
  readonly substituteUrls: readonly string[];
  readonly jsonBodyBytes: number;
  readonly maxFetchCount: number;
  readonly agentUrl: string;
  readonly clientUrl: string;
  readonly cacheUrl: string | undefined;
  readonly cacheProcesses: number;
  readonly metricsUrl: string | undefined;
  readonly dashboardUrl: string | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly cwd: string;
  readonly clientAuth: 'auto' | 'required';
  readonly allowUnauthenticatedClients: boolean;
  readonly clientTokenCacheMs: number;
  readonly buildTimeoutSeconds: number | null;
  readonly maxSilentTimeSeconds: number | null;
  readonly retention: Required<RetentionPolicy>;
  readonly retentionIntervalSeconds: number;
  readonly partialUploadMaxAgeSeconds: number;
}

/** Fills in the defaults documented on {@link CoordinatorConfig}. */
export function resolveConfig(config: CoordinatorConfig): ResolvedConfig {
  const cwd = config.cwd ?? process.cwd();
  const leaseSeconds = config.leaseSeconds ?? 300;
  if (!Number.isInteger(leaseSeconds) || leaseSeconds <= 0)
    throw new RangeError(`leaseSeconds must be a positive integer, got ${leaseSeconds}`);
  return {
    databaseUri: config.databaseUri,
    dataDir: config.dataDir ?? join(cwd, 'gbc-data'),
    storage: config.storage,
    s3: config.s3,
    storeDir: storeDirOf(config.storeDir ?? '/gnu/store'),
    allocationStrategy: config.allocationStrategy ?? 'basic',
    leaseSeconds,
    leaseCheckIntervalMs: config.leaseCheckIntervalMs ?? 5000,
    migrate: config.migrate ?? true,
    substituteUrls: config.substituteUrls ?? [],
    jsonBodyBytes: config.jsonBodyBytes ?? 16 * 1024 * 1024,
    maxFetchCount: config.maxFetchCount ?? 100,
    agentUrl: config.agentUrl ?? 'http://0.0.0.0:8745',
    clientUrl: config.clientUrl ?? 'http://127.0.0.1:8746',
    cacheUrl: config.cacheUrl,
    cacheProcesses: cacheProcessesOf(config.cacheProcesses ?? 1),
    metricsUrl: config.metricsUrl,
    dashboardUrl: config.dashboardUrl,
    clock: config.clock ?? systemClock,
    logger: config.logger ?? createJsonLogger('info'),
    cwd,
    clientAuth: clientAuthMode(config.clientAuth),
    allowUnauthenticatedClients: config.allowUnauthenticatedClients ?? false,
    clientTokenCacheMs: nonNegative('clientTokenCacheMs', config.clientTokenCacheMs ?? 5000),
    buildTimeoutSeconds: optionalPositive('buildTimeoutSeconds', config.buildTimeoutSeconds),
    maxSilentTimeSeconds: optionalPositive('maxSilentTimeSeconds', config.maxSilentTimeSeconds),
    retention: resolveRetentionPolicy(config.retention ?? {}),
    retentionIntervalSeconds: nonNegative('retentionIntervalSeconds', config.retentionIntervalSeconds ?? 0),
    partialUploadMaxAgeSeconds: nonNegative(
      'partialUploadMaxAgeSeconds',
      config.partialUploadMaxAgeSeconds ?? 86_400,
    ),
  };
}

/** How many processes serve the cache port for `cacheProcesses` (`auto`: one per core); throws a RangeError out of bounds. */
export function cacheProcessesOf(n: number | 'auto'): number {
  if (n === 'auto') return Math.min(64, availableParallelism());
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new RangeError(`cacheProcesses must be a whole number from 1 to 64 or "auto", got ${String(n)}`);
  return n;
}

function storeDirOf(dir: string): string {
  const trimmed = dir.replace(/\/+$/, '');
  if (!trimmed.startsWith('/'))
    throw new RangeError(
      `storeDir must be an absolute directory such as /gnu/store, got ${JSON.stringify(dir)}`,
    );
  return trimmed;
}

function clientAuthMode(mode: string | undefined): 'auto' | 'required' {
  if (mode === undefined || mode === 'auto' || mode === 'required') return mode ?? 'auto';
  throw new RangeError(`clientAuth must be "auto" or "required", got ${JSON.stringify(mode)}`);
}

function nonNegative(name: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name} must be a number >= 0, got ${n}`);
  return n;
}

function optionalPositive(name: string, n: number | undefined): number | null {
  if (n === undefined) return null;
  if (!Number.isInteger(n) || n <= 0)
    throw new RangeError(`${name} must be a positive integer (seconds), got ${n}`);
  return n;
}
