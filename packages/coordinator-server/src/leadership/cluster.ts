// Several coordinator processes on one PostgreSQL database, as one process
// sees them: the election (leadership.ts), the scheduler that relays to the
// elected process (cluster-scheduler.ts), the event bus that every process
// shares (cluster-events.ts), the removals of outputs every process's binary
// cache must forget, the announcements of the scheduler's URLs and the
// forwarding of fetch-builds to it (forward-fetch.ts). createCoordinator
// makes one when the database is PostgreSQL.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Hono } from 'hono';
import type { Datastore } from '@gbc/datastore';
import type { OutputRemovals } from '../cache/output-removals.js';
import type { EventBus } from '../events/event-bus.js';
import type { Logger } from '../logger.js';
import type { CoordinatorScheduler } from '../scheduler/create-scheduler.js';
import { chunked, createClusterSender, parseClusterPayload } from './cluster-channel.js';
import type { ClusterItem, LeaderAnnouncement } from './cluster-channel.js';
import { createClusterEventBus } from './cluster-events.js';
import type { ClusterEventBus } from './cluster-events.js';
import { createClusterScheduler } from './cluster-scheduler.js';
import type { ClusterScheduler } from './cluster-scheduler.js';
import { createForwardingFront } from './forward-fetch.js';
import { startLeadership } from './leadership.js';
import type { Leadership } from './leadership.js';

/** Options of {@link createCluster}. */
export interface ClusterOptions {
  readonly datastore: Datastore;
  /** The database URI with its password (the control session connects with it). */
  readonly databaseUri: string;
  readonly cwd: string;
  readonly logger: Logger;
  /** Makes a fresh one-process scheduler (each term rebuilds one). */
  readonly makeLocal: () => CoordinatorScheduler;
  /** This process's own bus (the SSE stream's). */
  readonly localEvents: EventBus;
  /** This process's own output removals (its narinfo cache listens). */
  readonly localRemovals: OutputRemovals;
  /** Lock tries and pings, in ms (default 1000); the scheduler announces itself every 5 of them. */
  readonly pollMs?: number;
  /** How long a fetch-builds waits for a scheduler while none is known, in ms (default 5000). */
  readonly electionWaitMs?: number;
  /** Polls a scheduler that lost its session leaves the lock to the others (leadership.ts; default 3). */
  readonly yieldPolls?: number;
}

/** What a process does while it is the scheduler. */
export interface TermHooks {
  /** The queue is rebuilt and serves: start the loops only the scheduler runs. */
  started(term: number, queued: number, rebuildMs: number): void;
  /** The term ended (stop them). */
  ended(term: number): void;
}

/** This process's view of the cluster. */
export interface Cluster {
  /** `host/pid/random`, as in `pg_stat_activity.application_name` (`gbc-coordinator <id>`). */
  readonly processId: string;
  readonly scheduler: ClusterScheduler;
  readonly events: ClusterEventBus;
  /** Output removals told to this process's listeners and to every other process's. */
  readonly removals: OutputRemovals;
  /** Joins the election; resolves once the first try is done (and, when won, the queue rebuilt). */
  start(hooks: TermHooks): Promise<void>;
  /** The URLs this process listens on, announced while it is the scheduler. */
  advertise(urls: { readonly agentUrl?: string; readonly clientUrl?: string }): void;
  /** The agent port's app: fetch-builds forwarded to the scheduler when this process is not it. */
  front(agentApp: Hono): Hono;
  isLeader(): boolean;
  /** How many times this process was elected the scheduler (0: never). */
  term(): number;
  /** Leaves the election (the lock goes with the session) after sending what is pending. */
  stop(): Promise<void>;
}

/** Creates the cluster view; nothing runs before `start`. */
export function createCluster(options: ClusterOptions): Cluster {
  const processId = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  const { logger } = options;
  const pollMs = options.pollMs ?? 1000;
  const sender = createClusterSender(options.datastore.db, processId, logger);
  const scheduler = createClusterScheduler({ makeLocal: options.makeLocal, sender, logger });
  const events = createClusterEventBus(options.localEvents, sender);
  let leadership: Leadership | undefined;
  let advertised: Omit<LeaderAnnouncement, 'process'> = {};
  let leader: LeaderAnnouncement | undefined;
  let lastWho = 0;
  let announcer: NodeJS.Timeout | undefined;
  // Forwarded calls waiting for a scheduler to be known.
  const waiting = new Set<() => void>();
  const leaderKnown = (): void => {
    for (const wake of waiting) wake();
    waiting.clear();
  };
  const waitForLeader = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, options.electionWaitMs ?? 5000);
      function done(): void {
        clearTimeout(timer);
        waiting.delete(done);
        resolve();
      }
      waiting.add(done);
    });

  const announce = (): void => {
    if (scheduler.serving()) sender.send({ t: 'leader', leader: { process: processId, ...advertised } });
  };
  const askWho = (): void => {
    // At most once a second: a burst of agents finding no scheduler asks once.
    if (Date.now() - lastWho < 1000) return;
    lastWho = Date.now();
    sender.send({ t: 'who' });
  };

  function receive(from: string, item: ClusterItem): void {
    switch (item.t) {
      case 'event':
        if (from !== processId) events.receive(item.event);
        return;
      case 'call':
        scheduler.receive(item.call);
        return;
      case 'removed':
        if (from !== processId) void options.localRemovals.notify(item.paths);
        return;
      case 'leader':
        leader = item.leader;
        leaderKnown();
        return;
      case 'who':
        announce();
        return;
    }
  }

  function message(payload: string): void {
    const parsed = parseClusterPayload(payload);
    if (parsed === undefined) {
      logger.warn('ignored a malformed notification on the cluster channel', { bytes: payload.length });
      return;
    }
    for (const item of parsed.items) {
      try {
        receive(parsed.from, item);
      } catch (error) {
        logger.error('could not handle a notification from another coordinator process', {
          kind: item.t,
          error: String(error),
        });
      }
    }
  }

  const removals: OutputRemovals = {
    async notify(paths) {
      await options.localRemovals.notify(paths);
      for (const part of chunked(paths)) sender.send({ t: 'removed', paths: part });
      await sender.flushed();
    },
    subscribe: (listener) => options.localRemovals.subscribe(listener),
  };

  return {
    processId,
    scheduler,
    events,
    removals,
    async start(hooks) {
      leadership = startLeadership(
        {
          databaseUri: options.databaseUri,
          cwd: options.cwd,
          processId,
          logger,
          pollMs,
          ...(options.yieldPolls === undefined ? {} : { yieldPolls: options.yieldPolls }),
        },
        {
          async elected(term) {
            const t0 = performance.now();
            const queued = await scheduler.elected(term);
            if (!scheduler.serving()) return;
            const rebuildMs = performance.now() - t0;
            logger.info('this process is the scheduler: queue rebuilt', {
              term,
              queued,
              rebuildMs: Math.round(rebuildMs),
            });
            leader = { process: processId, ...advertised };
            announce();
            leaderKnown();
            announcer = setInterval(announce, pollMs * 5);
            announcer.unref();
            hooks.started(term, queued, rebuildMs);
          },
          deposed(term) {
            scheduler.deposed();
            clearInterval(announcer);
            if (leader?.process === processId) leader = undefined;
            hooks.ended(term);
          },
          message,
        },
      );
      await leadership.ready;
      if (!scheduler.serving()) askWho();
    },
    advertise(urls) {
      advertised = { ...advertised, ...urls };
      if (scheduler.serving()) leader = { process: processId, ...advertised };
      announce();
    },
    front: (agentApp) =>
      createForwardingFront(agentApp, {
        processId,
        serving: () => scheduler.serving(),
        leaderAgentUrl: () => leader?.agentUrl,
        leaderFailed: (url) => {
          if (url === undefined || leader?.agentUrl === url) leader = undefined;
          askWho();
        },
        waitForLeader,
        logger,
      }),
    isLeader: () => leadership?.isLeader() === true && scheduler.serving(),
    term: () => leadership?.term() ?? 0,
    async stop() {
      clearInterval(announcer);
      leaderKnown();
      await leadership?.stop();
      await sender.flushed();
    },
  };
}
