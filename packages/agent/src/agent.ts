// createAgent: the agent's lifecycle. run() opens the state file, the link to
// the coordinator and the daemon, then composes the parts: the work fetcher
// (fetch loop, work-fetcher.ts) starts held builds (held-builds.ts), each run
// by run-build.ts and its result delivered (result-delivery.ts); the status
// reporter (status-reporter.ts) keeps their leases and learns cancellations.
// stop() and the grace period (agent-stop.ts) end it; run() returns once
// every held build is finished or released.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AllocatedBuild } from '@gbc/protocol';
import { createBuildDaemon, socketPathOf } from '@gbc/store';
import type { BuildDaemon } from '@gbc/store';
import { AgentStop } from './agent-stop.js';
import { CoordinatorLink } from './coordinator-link.js';
import { resolveCredentials } from './credentials.js';
import { daemonPreparation } from './guix-daemon-setup.js';
import { loadGuixSigning } from './guix-signing.js';
import type { GuixSigning } from './guix-signing.js';
import { HeldBuilds } from './held-builds.js';
import { coordinatorSource } from './nar-source.js';
import type { AgentOptions, ResolvedAgentOptions } from './options.js';
import { resolveAgentOptions } from './options.js';
import { ResultDelivery } from './result-delivery.js';
import type { BuildOps, RunContext } from './run-build.js';
import { runBuild } from './run-build.js';
import { Semaphore } from './semaphore.js';
import { SharedTempRoots } from './shared-roots.js';
import { StateFile } from './state-file.js';
import { StatusReporter } from './status-reporter.js';
import { WorkFetcher } from './work-fetcher.js';

/** A running agent. */
export interface Agent {
  /** Runs until `stop`; resolves once every held build is finished or released. */
  run(): Promise<void>;
  /**
   * `stop(true)` (SIGTERM): fetch nothing more; finish what is held within the
   * grace period, then abort and release the rest. `stop(false)` (a second
   * signal): abort every build now and release its lease.
   */
  stop(graceful?: boolean): void;
  /** Builds held now (uuid → the allocation), for tests and status pages. */
  readonly held: ReadonlyMap<string, AllocatedBuild>;
}

/** Creates an agent; nothing happens until `run()`. */
export function createAgent(options: AgentOptions): Agent {
  const o = resolveAgentOptions(options);
  const stop = new AgentStop();
  let fetcher: WorkFetcher | undefined;
  const nudge = (): void => fetcher?.wake();
  const held = new HeldBuilds(nudge, o.log);

  const run = async (): Promise<void> => {
    const { state, link } = await connect(o, stop.hardStop);
    const daemon = await openDaemon(o);
    const buildOps: BuildOps = { basic: undefined };
    const context = runContext(o, link, daemon, buildOps);
    const delivery = new ResultDelivery({ link, state, hardStop: stop.hardStop, log: o.log });
    const work = async (build: AllocatedBuild, signal: AbortSignal): Promise<void> => {
      const result = await runBuild(context(), build, signal);
      if (result !== null) await delivery.recordAndDeliver(build.uuid, result);
    };
    const keptDelivered = delivery.deliverKept();
    const reporter = new StatusReporter({
      link,
      held,
      delivering: () => delivery.inFlight(),
      systems: o.systems,
      stateDir: o.stateDir,
      statusIntervalMs: o.statusIntervalMs,
      pollIntervalMs: o.pollIntervalMs,
      timers: o.timers,
      stopping: stop.stopping,
    });
    const graceTimer = stop.graceTimer(o.gracePeriodMs, o.timers);
    stop.hardStop.addEventListener('abort', () => held.abortAll('stopping'), { once: true });
    try {
      fetcher = new WorkFetcher({
        link,
        held,
        reporter,
        work,
        buildOps,
        maxAllocatedBuilds: o.maxAllocatedBuilds,
        maxLoad1: o.maxLoad1,
        systems: o.systems,
        pollIntervalMs: o.pollIntervalMs,
        timers: o.timers,
        stopping: stop.stopping,
        hardStop: stop.hardStop,
        log: o.log,
      });
      await fetcher.run();
      // Draining: wait for the results a previous run left until they are delivered or the hard stop.
      await Promise.race([
        keptDelivered,
        new Promise((r) => stop.hardStop.addEventListener('abort', r, { once: true })),
      ]);
    } finally {
      // Also reached when run() fails: abort what is held and give each release one last try.
      stop.stopHard();
      await held.settled();
      await graceTimer;
      await daemon.close();
    }
  };

  return {
    run,
    stop(graceful = true) {
      stop.stop(graceful);
      nudge();
    },
    get held() {
      return held.snapshot();
    },
  };
}

/** Loads the state file and opens the link to the coordinator on the agent's credentials. */
async function connect(
  o: ResolvedAgentOptions,
  hardStop: AbortSignal,
): Promise<{ state: StateFile; link: CoordinatorLink }> {
  await mkdir(o.stateDir, { recursive: true });
  const state = new StateFile(o.stateDir);
  await state.load();
  const link = new CoordinatorLink({
    coordinatorUrl: o.coordinatorUrl,
    credentials: await resolveCredentials(o, state, o.coordinatorUrl),
    state,
    timers: o.timers,
    retry: o.retry,
    hardStop,
    log: o.log,
  });
  return { state, link };
}

/** The daemon as builds use it, prepared; `close` closes only what the agent opened. */
interface OpenDaemon {
  readonly daemon: BuildDaemon;
  readonly roots: SharedTempRoots | undefined;
  readonly signing: GuixSigning;
  readonly prepareDaemon: () => Promise<void>;
  close(): Promise<void>;
}

/** Connects to the daemon (or takes the one given), loads the Guix signing key and prepares the daemon. */
async function openDaemon(o: ResolvedAgentOptions): Promise<OpenDaemon> {
  const ownDaemon = o.daemon === undefined;
  const daemon =
    o.daemon ??
    createBuildDaemon({
      socket: o.daemonSocket,
      storeDir: o.storeDir,
      maxConnections: o.maxParallelBuilds + o.maxParallelUploads + 2,
    });
  const signing = await loadGuixSigning(o.guixSigningKeyFile);
  const prepareDaemon = daemonPreparation(daemon, ownDaemon, signing, o.log);
  await prepareDaemon();
  const roots = ownDaemon ? new SharedTempRoots(socketPathOf(o.daemonSocket)) : undefined;
  return {
    daemon,
    roots,
    signing,
    prepareDaemon,
    async close() {
      roots?.close();
      if (ownDaemon) await daemon.close();
    },
  };
}

/** What every build run shares: read per build, so each takes the link's current client. */
function runContext(
  o: ResolvedAgentOptions,
  link: CoordinatorLink,
  open: OpenDaemon,
  buildOps: BuildOps,
): () => RunContext {
  const builds = new Semaphore(o.maxParallelBuilds);
  const uploads = new Semaphore(o.maxParallelUploads);
  const call = <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> => link.call(fn, signal);
  return () => ({
    client: link.client,
    daemon: open.daemon,
    cache: coordinatorSource(link.client, open.daemon.storeDir),
    spoolDir: join(o.stateDir, 'spool'),
    compression: o.uploadCompression,
    compressAboveBytes: o.compressAboveBytes,
    rootsSocket: o.daemon === undefined ? socketPathOf(o.daemonSocket) : undefined,
    roots: open.roots,
    derivationSubstituteUrls: o.derivationSubstituteUrls,
    nonDerivationSubstituteUrls: o.nonDerivationSubstituteUrls,
    caps: {
      maxBuildTimeoutSeconds: o.maxBuildTimeoutSeconds,
      maxBuildSilentSeconds: o.maxBuildSilentSeconds,
    },
    signing: open.signing,
    prepareDaemon: open.prepareDaemon,
    builds,
    uploads,
    buildOps,
    call,
    log: o.log,
  });
}
