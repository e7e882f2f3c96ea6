// The scheduler of a coordinator process that shares its PostgreSQL database
// with others. Route handlers call it as they call the one-process scheduler
// (the database first, then the scheduler). On the elected process the calls
// go to this term's in-memory queue; on the others they are sent to every
// process over the cluster channel and the elected one applies them. Every
// call names builds, paths or an agent whose state the scheduler rereads from
// the database (or marks that only grow: paths available, derivations
// failed), so applying one twice, late, or after a rebuild that already saw
// its change is harmless. While a new term rebuilds its queue, calls wait in a
// buffer and are applied after it, so none is lost between the rebuild's
// reads and the end of the election.
import type { AllocationPlan, Explanation, QueueCounts } from '@gbc/allocator';
import type { FinishedAttempt } from '@gbc/datastore';
import { HttpError } from '../http/http-error.js';
import type { Logger } from '../logger.js';
import type { CoordinatorScheduler } from '../scheduler/create-scheduler.js';
import type { FetchedBuild } from '../scheduler/scheduler-api.js';
import { chunked } from './cluster-channel.js';
import type { ClusterSender, SchedulerCall } from './cluster-channel.js';

/** Options of {@link createClusterScheduler}. */
export interface ClusterSchedulerOptions {
  /** Makes a fresh one-process scheduler (empty until rebuilt). */
  readonly makeLocal: () => CoordinatorScheduler;
  readonly sender: ClusterSender;
  readonly logger: Logger;
}

/** The cluster's scheduler as this process sees it; see the file header. */
export interface ClusterScheduler extends CoordinatorScheduler {
  /** This process won term `term`: rebuild a queue, apply what arrived meanwhile, then serve. Returns the queue size. */
  elected(term: number): Promise<number>;
  /** The term is over: drop the queue at once; fetch-builds gets nothing here from now on. */
  deposed(): void;
  /** A call received from the cluster channel. */
  receive(call: SchedulerCall): void;
  /** Whether this process's queue serves now. */
  serving(): boolean;
}

/** Creates the cluster scheduler; see the file header. */
export function createClusterScheduler(options: ClusterSchedulerOptions): ClusterScheduler {
  const { sender, logger } = options;
  // Answers queue questions while this process does not schedule: an empty queue.
  const idle = options.makeLocal();
  let local: CoordinatorScheduler | undefined;
  let buffer: SchedulerCall[] | undefined;
  let electing: number | undefined;

  const relay = (call: SchedulerCall): void => sender.send({ t: 'call', call });
  const relayIds = (op: 'refresh' | 'cancel', ids: readonly string[]): void => {
    for (const part of chunked(ids)) relay({ op, ids: part });
  };
  const relayPaths = (paths: readonly string[]): void => {
    for (const part of chunked(paths)) relay({ op: 'available', paths: part });
  };

  function apply(s: CoordinatorScheduler, call: SchedulerCall): Promise<void> {
    switch (call.op) {
      case 'refresh':
        return s.refresh(call.ids);
      case 'cancel':
        s.notifyBuildsCanceled(call.ids);
        return Promise.resolve();
      case 'available':
        s.notifyPathsAvailable(call.paths);
        return Promise.resolve();
      case 'failed':
        // The scheduler's own call marks the derivation failed; nothing to reread.
        return s.notifyBuildFinished(failedMark(call.derivation), []);
      case 'agent':
        return s.notifyAgentChanged(call.id);
    }
  }

  const applyLogged = (s: CoordinatorScheduler, call: SchedulerCall): void => {
    apply(s, call).catch((error: unknown) =>
      logger.error('could not apply a scheduler change from another process', {
        op: call.op,
        error: String(error),
      }),
    );
  };

  return {
    get strategyName() {
      return idle.strategyName;
    },
    serving: () => local !== undefined,
    async elected(term) {
      electing = term;
      buffer = [];
      // Read through a function: a deposition may come during any await below.
      const stillElecting = (): boolean => electing === term;
      const s = options.makeLocal();
      const queued = await s.rebuild();
      // Calls that arrived during the rebuild; more may arrive while these are applied.
      while (stillElecting() && buffer.length > 0) {
        const calls = buffer;
        buffer = [];
        for (const call of calls) await apply(s, call).catch(() => undefined);
      }
      if (!stillElecting()) return queued;
      buffer = undefined;
      local = s;
      return queued;
    },
    deposed() {
      electing = undefined;
      buffer = undefined;
      local = undefined;
    },
    receive(call) {
      if (buffer !== undefined) buffer.push(call);
      else if (local !== undefined) applyLogged(local, call);
    },
    rebuild: (o) => (local === undefined ? Promise.resolve(0) : local.rebuild(o)),
    notifyBuildsCreated(ids) {
      if (local !== undefined) return local.notifyBuildsCreated(ids);
      relayIds('refresh', ids);
      return Promise.resolve();
    },
    notifyBuildsCanceled(ids) {
      if (local !== undefined) local.notifyBuildsCanceled(ids);
      else relayIds('cancel', ids);
    },
    notifyPriorityChanged(id, priority) {
      if (local !== undefined) return local.notifyPriorityChanged(id, priority);
      relayIds('refresh', [id]);
      return Promise.resolve();
    },
    notifyPathsAvailable(paths) {
      if (local !== undefined) local.notifyPathsAvailable(paths);
      else relayPaths(paths);
    },
    notifyAgentChanged(agentId) {
      if (local !== undefined) return local.notifyAgentChanged(agentId);
      relay({ op: 'agent', id: agentId });
      return Promise.resolve();
    },
    refresh(ids) {
      if (local !== undefined) return local.refresh(ids);
      relayIds('refresh', ids);
      return Promise.resolve();
    },
    notifyBuildFinished(finished, outputPaths) {
      if (local !== undefined) return local.notifyBuildFinished(finished, outputPaths);
      if (finished.buildState === 'succeeded') relayPaths([finished.derivationPath, ...outputPaths]);
      if (finished.buildState === 'failed') relay({ op: 'failed', derivation: finished.derivationPath });
      const again = finished.buildState === 'queued' ? [finished.buildId] : [];
      relayIds('refresh', [...again, ...finished.blocked, ...finished.unblocked]);
      return Promise.resolve();
    },
    explain: (id): Explanation => (local ?? idle).explain(id),
    plan(perAgent): AllocationPlan {
      if (local === undefined)
        throw new HttpError(
          'unavailable',
          'this coordinator process is not the scheduler: ask the plan of the process that holds the scheduler lock',
        );
      return local.plan(perAgent);
    },
    counts: (): QueueCounts => (local ?? idle).counts(),
    fetchBuilds(agentId, count, systems): Promise<FetchedBuild[]> {
      // Not the scheduler (any more): nothing to hand out; the agent asks again.
      if (local === undefined) return Promise.resolve([]);
      return local.fetchBuilds(agentId, count, systems);
    },
  };
}

/** A finished attempt that only marks `derivation` failed, with no build to reread. */
function failedMark(derivation: string): FinishedAttempt {
  return { buildId: '', derivationPath: derivation, buildState: 'failed', blocked: [], unblocked: [] };
}
