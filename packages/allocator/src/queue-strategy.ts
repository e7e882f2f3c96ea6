// Assembles a strategy from the shared queue index: the built-ins are this
// with different switches, and custom strategies can reuse it with their own
// build order.
import { AllocatorError } from './errors.js';
import { createFairShareState, type FairShareOptions } from './fair-share.js';
import { explainBuild } from './explain.js';
import { planAllocations } from './plan.js';
import { addEntry, dropEntry, linkEntry, place, resolveInputs, statusOf } from './queue-entries.js';
import {
  bulkFileReady,
  createEmptyIndex,
  widenRelevantKeys,
  type BuildEntry,
  type QueueIndex,
} from './queue-index.js';
import { rankOf } from './priority-propagation.js';
import type { AllocationStrategy } from './strategy.js';
import { takeEntries } from './take.js';
import type { QueuedBuild, QueueSnapshot } from './types.js';

/** Switches of {@link createQueueStrategy}. */
export interface QueueStrategyOptions {
  /** Strategy name. */
  readonly name: string;
  /** Raise a build's rank to the highest rank of the builds waiting on it. Default false. */
  readonly propagatePriority?: boolean;
  /**
   * Build order (negative: `a` first). Default: higher (effective) priority, then older `createdAt`.
   * Ties are always broken by id, so the order is total and allocation deterministic.
   */
  readonly compare?: (a: QueuedBuild, b: QueuedBuild) => number;
  /** Share the farm between values of one tag first (order applies within and between equal shares). */
  readonly fairShare?: FairShareOptions;
}

/** A strategy over the bucketed, heap-ordered {@link QueueIndex}: `take` costs O(count · (buckets + log n)). */
export function createQueueStrategy(options: QueueStrategyOptions): AllocationStrategy<QueueIndex> {
  const compare = options.compare;
  const before =
    compare === undefined
      ? rankBefore
      : (a: BuildEntry, b: BuildEntry) => {
          const c = compare(a.build, b.build);
          return c !== 0 ? c < 0 : a.build.id < b.build.id;
        };
  const behaviour = { name: options.name, propagatePriority: options.propagatePriority === true, before };
  if (options.fairShare !== undefined) createFairShareState(options.fairShare); // validate options early
  const empty = () =>
    createEmptyIndex(
      behaviour,
      options.fairShare === undefined ? undefined : createFairShareState(options.fairShare),
    );

  return {
    name: options.name,
    createIndex: (snapshot: QueueSnapshot) => {
      const index = empty();
      for (const agent of snapshot.agents) {
        index.agents.set(agent.id, agent);
        widenRelevantKeys(index, agent);
      }
      const entries = snapshot.builds.map((b) => linkEntry(index, b));
      // Ranks need every entry linked and placed statuses known; inactive ones do not propagate.
      for (const e of entries) e.status = statusOf(index, e);
      if (behaviour.propagatePriority) propagateAll(index);
      const ready: BuildEntry[] = [];
      for (const e of entries) {
        if (e.status === 'ready') {
          index.counts.ready++;
          ready.push(e);
        } else place(index, e, e.status);
      }
      bulkFileReady(index, ready);
      return index;
    },
    insert: (index, build) => void addEntry(index, build),
    update: (index, build) => {
      if (dropEntry(index, build.id) === undefined)
        throw new AllocatorError('unknown-build', `build ${build.id} is not queued; insert it first`);
      addEntry(index, build);
    },
    remove: (index, buildId) => dropEntry(index, buildId) !== undefined,
    markInputsAvailable: (index, paths) => resolveInputs(index, paths, 'available'),
    markInputsFailed: (index, paths) => resolveInputs(index, paths, 'failed'),
    upsertAgent: (index, agent) => {
      index.agents.set(agent.id, agent);
      index.eligible.delete(agent.id);
      widenRelevantKeys(index, agent);
    },
    removeAgent: (index, agentId) => {
      index.eligible.delete(agentId);
      return index.agents.delete(agentId);
    },
    take: (index, agentId, count, now) => takeEntries(index, agentId, count, now).map((e) => e.build),
    explain: (index, buildId, now) => explainBuild(index, buildId, now),
    plan: (index, now, perAgent) => planAllocations(index, now, perAgent),
    counts: (index) => ({ ...index.counts }),
  };
}

/** Default order: higher rank, then older, then smaller id. */
function rankBefore(a: BuildEntry, b: BuildEntry): boolean {
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (a.build.createdAt !== b.build.createdAt) return a.build.createdAt < b.build.createdAt;
  return a.build.id < b.build.id;
}

/**
 * Initial effective ranks in one pass. Only builds that something waits on can
 * rank above their priority; a depth-first search over "is waited on by" edges
 * from those finishes every dependent before the build it waits on.
 */
function propagateAll(index: QueueIndex): void {
  const finished = new Set<string>();
  for (const rootId of index.dependents.keys()) {
    const root = index.entries.get(rootId);
    if (root === undefined || finished.has(rootId)) continue;
    const stack: { entry: BuildEntry; next: Iterator<string> }[] = [
      { entry: root, next: dependentsOf(index, rootId) },
    ];
    const onStack = new Set<string>([rootId]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { entry: BuildEntry; next: Iterator<string> };
      const step = top.next.next();
      if (step.done === true) {
        top.entry.rank = rankOf(index, top.entry);
        finished.add(top.entry.build.id);
        onStack.delete(top.entry.build.id);
        stack.pop();
        continue;
      }
      const child = index.entries.get(step.value);
      // Already done, or a cycle (impossible for derivations): skip.
      if (child === undefined || finished.has(step.value) || onStack.has(step.value)) continue;
      if (!index.dependents.has(step.value)) continue; // nothing waits on it: rank = priority already
      onStack.add(step.value);
      stack.push({ entry: child, next: dependentsOf(index, step.value) });
    }
  }
}

function dependentsOf(index: QueueIndex, id: string): Iterator<string> {
  return (index.dependents.get(id) ?? new Set<string>()).values();
}
