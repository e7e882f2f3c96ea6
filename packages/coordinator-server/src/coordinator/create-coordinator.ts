// createCoordinator: opens the datastore and the storage, builds the shared
// context, the scheduler and the apps (client, agent, binary cache). The apps
// never listen by themselves (see listen.ts). `start()` migrates, rebuilds the
// in-memory queue from the datastore and starts the lease loop; `stop()` ends
// the loop and closes the datastore. On SQLite the process holds the
// database's coordinator lock (a second process is refused); on PostgreSQL it
// joins the processes that share the database (leadership/cluster.ts): the
// elected one schedules, rebuilds the queue and runs the lease loop.
import type { Server } from 'node:net';
import type { Hono } from 'hono';
import { resolveStrategy } from '@gbc/allocator';
import type { AllocationStrategy } from '@gbc/allocator';
import { lockSqliteForCoordinator, openDatastore, parseDatastoreUri } from '@gbc/datastore';
import type { SqliteProcessLock } from '@gbc/datastore';
import { createAgentApp } from '../agent-api/agent-app.js';
import { createAgentAuthenticator } from '../agent-api/agent-auth.js';
import type { AgentAuthOptions } from '../agent-api/agent-auth.js';
import { createFetchBuildsListener } from '../agent-api/fetch-builds-listener.js';
import type { FrontHandler, RequestObserver } from '../http/front-handler.js';
import {
  cacheInfoText,
  createCacheApp,
  createCacheIndex,
  createCacheListener,
  createOutputRemovals,
  resolveCacheOptions,
} from '../cache/index.js';
import { attachHooksAndMetrics, type HooksAndMetrics, type HooksAndMetricsOptions } from '../hooks/attach.js';
import type { CacheOptions } from '../cache/index.js';
import { createClientApps } from '../client-api/index.js';
import type { ClientAppOptions } from '../client-api/index.js';
import { resolveConfig } from '../config.js';
import { retentionRunner } from '../retention/retention-runner.js';
import type { CoordinatorConfig } from '../config.js';
import type { CoordinatorContext } from '../context.js';
import { leaseMs } from '../context.js';
import { createEventBus } from '../events/event-bus.js';
import { createScheduler } from '../scheduler/create-scheduler.js';
import type { CoordinatorScheduler } from '../scheduler/create-scheduler.js';
import { startLeaseLoop } from '../scheduler/lease-loop.js';
import type { LeaseLoop } from '../scheduler/lease-loop.js';
import { createLogStore, createNarUploads, openStorage } from '../storage/index.js';
import { startUploadSweep, type UploadSweep } from '../storage/upload-sweep.js';
import { sweepUploadedNotes } from '../agent-api/uploaded-outputs.js';
import { createCluster } from '../leadership/cluster.js';
import { sendCacheOptions, startCacheProcesses, type CacheProcesses } from '../cache/cache-processes.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Cluster } from '../leadership/cluster.js';
import type { RequestTimeouts } from './request-timeouts.js';

/** Options of createCoordinator beyond the configuration: per-app settings. */
export interface CoordinatorOptions extends CoordinatorConfig, HooksAndMetricsOptions {
  readonly client?: ClientAppOptions & LegacyStoreDir;
  /** The cache's store directory is the configuration's `storeDir`. */
  readonly cache?: Omit<CacheOptions, 'storeDir'> & LegacyStoreDir;
  readonly agentAuth?: AgentAuthOptions;
  /** Limits of output and source NAR uploads. */
  readonly uploads?: UploadLimits;
  /** PostgreSQL: the agent URL other processes forward fetch-builds to while this one schedules. Default: where it listens (see listen). */
  readonly advertiseAgentUrl?: string;
  /** PostgreSQL: how often a process tries the scheduler lock, and the scheduler pings its session, in ms. Default 1000. */
  readonly electionPollMs?: number;
  /** PostgreSQL: how long a fetch-builds on a process that does not schedule waits for a scheduler while none is known, in ms. Default 5000. */
  readonly electionWaitMs?: number;
  /** PostgreSQL: polls a scheduler that lost its session leaves the lock to the others (default 3). */
  readonly electionYieldPolls?: number;
}

/** A per-app store directory, from before `CoordinatorConfig.storeDir`. */
export interface LegacyStoreDir {
  /** @deprecated Set `storeDir` on the coordinator's configuration; it must agree with it when both are given. */
  readonly storeDir?: string;
}

/** Limits of NAR uploads. */
export interface UploadLimits {
  /** Largest NAR accepted (uncompressed bytes); a larger declared NarSize is refused with 413. Default 32 GiB. */
  readonly maxNarSize?: number;
  /** Most NAR bytes an upload may decode per compressed byte received (past the first 64 MiB); beyond, 413. Default 1024. */
  readonly maxExpansion?: number;
}

/** A coordinator: its apps, its context, and its life cycle. */
export interface Coordinator {
  readonly context: CoordinatorContext;
  readonly scheduler: CoordinatorScheduler;
  /** The client API (client port). */
  readonly clientApp: Hono;
  /** The agent API and the binary cache (agent port). */
  readonly agentApp: Hono;
  /** The binary cache alone, for a port of its own. */
  readonly cacheApp: Hono;
  /** The web dashboard alone and read-only, for an address of its own (`dashboardUrl`). */
  readonly dashboardApp: Hono;
  /**
   * The fast paths in front of each port's apps (listen.ts): on the agent port
   * fetch-builds' then the cache's (narinfos, NARs); on the cache port the cache's.
   */
  readonly fronts: {
    readonly agentPort: FrontHandler;
    readonly cachePort: FrontHandler;
  };
  /** The hook runner and the metrics (engineer M's hooks/attach.ts). */
  readonly observed: HooksAndMetrics;
  /**
   * Starts `count` helper processes answering on the cache port's listening
   * `server` as this process does (cache/cache-processes.ts; `listen` calls it
   * for `cacheProcesses` > 1), counted in the metrics. Stop them before closing `server`.
   * @throws RangeError for an in-memory SQLite database, which no other process can open.
   */
  startCacheHelpers(server: Server, count: number, timeouts?: RequestTimeouts): Promise<CacheProcesses>;
  /** Migrates (unless `migrate: false`), rebuilds the queue, starts the lease loop. Returns the queue size and how long the rebuild took. */
  start(): Promise<{ queued: number; rebuildMs: number }>;
  /** Runs one lease-expiry pass now (tests advance the clock, then call this). */
  checkLeases(): Promise<number>;
  /** PostgreSQL: the processes sharing the database, as this one sees them; undefined on SQLite. */
  readonly cluster: Cluster | undefined;
  /** Tells the other processes where this one listens (listen() calls it); a no-op on SQLite. */
  advertise(urls: { readonly agentUrl?: string; readonly clientUrl?: string }): void;
  /** Stops the loop and closes the datastore. Idempotent. */
  stop(): Promise<void>;
}

/** Creates a coordinator; see the file header. */
export async function createCoordinator(options: CoordinatorOptions): Promise<Coordinator> {
  const config = resolveConfig({ ...options, storeDir: oneStoreDir(options) });
  const strategy: AllocationStrategy =
    typeof config.allocationStrategy === 'string'
      ? await resolveStrategy(config.allocationStrategy, { baseDir: config.cwd })
      : config.allocationStrategy;
  const target = parseDatastoreUri(config.databaseUri, config.cwd);
  const sqliteLock: SqliteProcessLock | undefined =
    target.dialect === 'sqlite' ? lockSqliteForCoordinator(target.filename) : undefined;
  const datastore = await openDatastore(config.databaseUri, { migrate: false, cwd: config.cwd }).catch(
    (error: unknown) => {
      sqliteLock?.release();
      throw error;
    },
  );
  try {
    const store = await openStorage({ storage: config.storage, dataDir: config.dataDir, s3: config.s3 });
    const storage = {
      store,
      nars: await createNarUploads({
        storage: store,
        maxNarSize: options.uploads?.maxNarSize,
        maxExpansion: options.uploads?.maxExpansion,
      }),
      logs: await createLogStore({ storage: store }),
    };
    const makeScheduler = () =>
      createScheduler({
        datastore,
        strategy,
        clock: config.clock,
        logger: config.logger,
        leaseMs: config.leaseSeconds * 1000,
      });
    const localEvents = createEventBus({ now: () => config.clock.now() });
    const localRemovals = createOutputRemovals();
    const cluster =
      target.dialect === 'postgres'
        ? createCluster({
            datastore,
            databaseUri: config.databaseUri,
            cwd: config.cwd,
            logger: config.logger,
            makeLocal: makeScheduler,
            localEvents,
            localRemovals,
            pollMs: options.electionPollMs,
            electionWaitMs: options.electionWaitMs,
            yieldPolls: options.electionYieldPolls,
          })
        : undefined;
    const scheduler: CoordinatorScheduler = cluster?.scheduler ?? makeScheduler();
    const events = cluster?.events ?? localEvents;
    // Uploads are observed by the metrics, which are made after the apps that receive them.
    let observeUpload: CoordinatorContext['observeUpload'] = () => undefined;
    const context: CoordinatorContext = {
      config,
      datastore,
      scheduler,
      storage,
      clock: config.clock,
      events,
      logger: config.logger,
      observeUpload: (u) => observeUpload(u),
      outputRemovals: cluster?.removals ?? localRemovals,
    };
    const cacheOptions = await resolveCacheOptions({ ...options.cache, storeDir: config.storeDir });
    const narInfos = createCacheIndex(context, cacheOptions);
    const cacheApp = createCacheApp(context, cacheOptions, narInfos);
    const agentAuth = createAgentAuthenticator(context, options.agentAuth);
    const agentApp = createAgentApp(context, scheduler, agentAuth);
    agentApp.route('/', cacheApp);
    const observed = await attachHooksAndMetrics(context, agentApp, {
      ...options,
      cache: { ...options.cache, storeDir: config.storeDir },
    });
    observeUpload = (u) => observed.metrics.observeUpload(u);
    const helperGroups = new Set<CacheProcesses>();
    countCacheHelpers(observed.metrics.registry, helperGroups);
    const cacheInfo = cacheInfoText(cacheOptions);
    // The agent port's requests are counted in the metrics, whichever path answers them.
    const observeRequest: RequestObserver = (...r) => observed.metrics.observeRequest(...r);
    const fetchBuildsFront = createFetchBuildsListener(context, agentAuth, {
      serving: () => cluster === undefined || cluster.scheduler.serving(),
      observe: observeRequest,
    });
    const agentPortCacheFront = createCacheListener(
      context,
      cacheOptions,
      narInfos,
      cacheInfo,
      observeRequest,
    );
    const agentPortFront: FrontHandler = (req, res) =>
      fetchBuildsFront(req, res) || agentPortCacheFront(req, res);
    const fronts = {
      agentPort: agentPortFront,
      cachePort: createCacheListener(context, cacheOptions, narInfos, cacheInfo),
    };
    const clientApps = createClientApps(context, options.client ?? {});
    const clientApp = clientApps.clientApp;
    let loop: LeaseLoop | undefined;
    let sweep: UploadSweep | undefined;
    let stopped = false;
    // What every process runs, scheduler or not.
    const startBackground = () => {
      observed.start();
      retentionRunner(context).start();
      sweep = startUploadSweep(storage.nars, {
        maxAgeSeconds: config.partialUploadMaxAgeSeconds,
        logger: config.logger,
      });
    };
    const startLeases = () => {
      loop = startLeaseLoop(context, scheduler);
    };
    const stopLeases = () => {
      const ending = loop;
      loop = undefined;
      void ending?.stop();
    };
    // Set before start: listen() advertises the URLs it bound.
    if (options.advertiseAgentUrl !== undefined) cluster?.advertise({ agentUrl: options.advertiseAgentUrl });
    return {
      context,
      scheduler,
      cacheApp,
      get dashboardApp() {
        return clientApps.dashboardApp;
      },
      fronts,
      observed,
      cluster,
      async startCacheHelpers(server, count, timeouts) {
        if (target.dialect === 'sqlite' && target.filename === ':memory:')
          throw new RangeError(
            'cacheProcesses > 1 needs a database other processes can open, not sqlite::memory:',
          );
        const helpers = await startCacheProcesses({
          server,
          count,
          spec: {
            databaseUri: config.databaseUri,
            cwd: config.cwd,
            storage: { storage: config.storage, dataDir: config.dataDir, s3: config.s3 },
            cache: sendCacheOptions(cacheOptions),
            ...(timeouts === undefined ? {} : { timeouts }),
          },
          removals: context.outputRemovals,
          logger: config.logger,
        });
        helperGroups.add(helpers);
        return helpers;
      },
      clientApp: clientApp as unknown as Hono,
      agentApp: cluster?.front(observed.agentPortApp) ?? observed.agentPortApp,
      advertise(urls) {
        const agentUrl = options.advertiseAgentUrl ?? urls.agentUrl;
        cluster?.advertise({ ...urls, ...(agentUrl === undefined ? {} : { agentUrl }) });
      },
      async start() {
        if (config.migrate) await datastore.migrate();
        const swept = await sweepUploadedNotes(store.scratchDir, datastore.db);
        if (swept > 0) config.logger.info('upload notes of finished builds removed', { builds: swept });
        if (cluster !== undefined) {
          let started = { queued: 0, rebuildMs: 0 };
          await cluster.start({
            started(_term, queued, rebuildMs) {
              started = { queued, rebuildMs };
              startLeases();
            },
            ended: stopLeases,
          });
          startBackground();
          return started;
        }
        const t0 = performance.now();
        const queued = await scheduler.rebuild();
        const rebuildMs = performance.now() - t0;
        config.logger.info('queue rebuilt', {
          queued,
          rebuildMs: Math.round(rebuildMs),
          strategy: strategy.name,
          leaseMs: leaseMs(context),
        });
        startLeases();
        startBackground();
        return { queued, rebuildMs };
      },
      async checkLeases() {
        if (loop === undefined) throw new Error('checkLeases: the coordinator is not started');
        return (await loop.checkNow()).length;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await loop?.stop();
        await sweep?.stop();
        await observed.stop();
        await retentionRunner(context).stop();
        await cluster?.stop();
        await datastore.close();
        store.close?.();
        sqliteLock?.release();
      },
    };
  } catch (error) {
    await datastore.close().catch(() => undefined);
    sqliteLock?.release();
    throw error;
  }
}

/**
 * The metrics of the cache's helper processes, from `groups` at each scrape:
 * a stopped group serves with no process and keeps its restarts (a counter never goes down).
 */
function countCacheHelpers(registry: Registry, groups: ReadonlySet<CacheProcesses>): void {
  new Gauge({
    name: 'gbc_cache_helper_processes',
    help: 'Helper processes serving the cache port now, besides the coordinator (--cache-processes).',
    registers: [registry],
    collect() {
      this.set([...groups].reduce((n, g) => n + g.pids().length, 0));
    },
  });
  new Counter({
    name: 'gbc_cache_helper_restarts_total',
    help: 'Cache helper processes started in place of ones that ended.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc([...groups].reduce((n, g) => n + g.restarts(), 0));
    },
  });
}

/** The one store directory: `storeDir`, or the legacy per-app ones (which must agree). */
function oneStoreDir(options: CoordinatorOptions): string | undefined {
  const given = [options.storeDir, options.client?.storeDir, options.cache?.storeDir]
    .filter((d): d is string => d !== undefined)
    .map((d) => d.replace(/\/+$/, ''));
  if (new Set(given).size > 1)
    throw new RangeError(
      `conflicting store directories ${[...new Set(given)].join(', ')}: set only the coordinator's storeDir`,
    );
  return given[0];
}
