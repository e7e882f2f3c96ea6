// createAgent: the agent loop. Status reports keep leases alive and learn
// cancellations; builds are fetched within the limits and each runs on its
// own (run-build.ts); results are written to the state file before they are
// sent, so none is lost to a coordinator outage or an agent restart.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AllocatedBuild } from '@gbc/protocol';
import { createBuildDaemon, socketPathOf } from '@gbc/store';
import type { BuildDaemon } from '@gbc/store';
import { CoordinatorLink } from './coordinator-link.js';
import { resolveCredentials } from './credentials.js';
import { daemonPreparation } from './guix-daemon-setup.js';
import { HeldBuilds } from './held-builds.js';
import { loadGuixSigning } from './guix-signing.js';
import { coordinatorSource } from './nar-source.js';
import type { AgentOptions } from './options.js';
import { resolveAgentOptions } from './options.js';
import { ResultDelivery } from './result-delivery.js';
import type { BuildOps, RunContext } from './run-build.js';
import { runBuild } from './run-build.js';
import { SharedTempRoots } from './shared-roots.js';
import { Semaphore } from './semaphore.js';
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
  const stopping = new AbortController();
  const hardStop = new AbortController();
  let fetcher: WorkFetcher | undefined;
  const nudge = (): void => fetcher?.wake();
  const held = new HeldBuilds(nudge, o.log);

  const run = async (): Promise<void> => {
    await mkdir(o.stateDir, { recursive: true });
    const state = new StateFile(o.stateDir);
    await state.load();
    const link = new CoordinatorLink({
      coordinatorUrl: o.coordinatorUrl,
      credentials: await resolveCredentials(o, state, o.coordinatorUrl),
      state,
      timers: o.timers,
      retry: o.retry,
      hardStop: hardStop.signal,
      log: o.log,
    });
    const call = link.call.bind(link);
    const ownDaemon = o.daemon === undefined;
    const daemon: BuildDaemon =
      o.daemon ??
      createBuildDaemon({
        socket: o.daemonSocket,
        storeDir: o.storeDir,
        maxConnections: o.maxParallelBuilds + o.maxParallelUploads + 2,
      });
    const buildOps: BuildOps = { basic: undefined };
    const signing = await loadGuixSigning(o.guixSigningKeyFile);
    const prepareDaemon = daemonPreparation(daemon, ownDaemon, signing, o.log);
    await prepareDaemon();
    const roots = o.daemon === undefined ? new SharedTempRoots(socketPathOf(o.daemonSocket)) : undefined;
    const ctx = (): RunContext => ({
      client: link.client,
      daemon,
      cache: coordinatorSource(link.client, daemon.storeDir),
      spoolDir: join(o.stateDir, 'spool'),
      compression: o.uploadCompression,
      compressAboveBytes: o.compressAboveBytes,
      rootsSocket: o.daemon === undefined ? socketPathOf(o.daemonSocket) : undefined,
      roots,
      derivationSubstituteUrls: o.derivationSubstituteUrls,
      nonDerivationSubstituteUrls: o.nonDerivationSubstituteUrls,
      caps: {
        maxBuildTimeoutSeconds: o.maxBuildTimeoutSeconds,
        maxBuildSilentSeconds: o.maxBuildSilentSeconds,
      },
      signing,
      prepareDaemon,
      builds,
      uploads,
      buildOps,
      call,
      log: o.log,
    });
    const builds = new Semaphore(o.maxParallelBuilds);
    const uploads = new Semaphore(o.maxParallelUploads);

    const delivery = new ResultDelivery({ link, state, hardStop: hardStop.signal, log: o.log });

    const work = async (build: AllocatedBuild, signal: AbortSignal): Promise<void> => {
      const result = await runBuild(ctx(), build, signal);
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
      stopping: stopping.signal,
    });

    const graceTimer = (async () => {
      // stop() may have come while run() was still starting (the listener would never fire).
      if (!stopping.signal.aborted)
        await new Promise<void>((resolve) =>
          stopping.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
      await o.timers.sleep(o.gracePeriodMs, hardStop.signal).catch(() => undefined);
      if (!hardStop.signal.aborted) hardStop.abort('stopping');
    })();
    hardStop.signal.addEventListener('abort', () => held.abortAll('stopping'), { once: true });

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
        stopping: stopping.signal,
        hardStop: hardStop.signal,
        log: o.log,
      });
      await fetcher.run();
      // Draining: tell the coordinator, then wait for undelivered results until the hard stop.
      await Promise.race([
        keptDelivered,
        new Promise((r) => hardStop.signal.addEventListener('abort', r, { once: true })),
      ]);
    } finally {
      // Also reached when run() fails: abort what is held and give each release one last try.
      if (!hardStop.signal.aborted) hardStop.abort('stopping');
      await held.settled();
      await graceTimer;
      roots?.close();
      if (ownDaemon) await daemon.close();
    }
  };

  return {
    run,
    stop(graceful = true) {
      if (!stopping.signal.aborted) stopping.abort('stopping');
      if (!graceful && !hardStop.signal.aborted) hardStop.abort('stopping');
      nudge();
    },
    get held() {
      return held.snapshot();
    },
  };
}
