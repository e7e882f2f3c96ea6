// The allocation-strategy interface: pure, deterministic functions over an
// in-memory index that the strategy builds from a snapshot and then mutates
// in place. No I/O, no clock: `now` is always a parameter (ms).
import type {
  AgentInfo,
  AllocationPlan,
  Explanation,
  QueueCounts,
  QueueSnapshot,
  QueuedBuild,
} from './types.js';

/**
 * An allocation strategy. `I` is its index type, opaque to callers.
 *
 * Contract (checked by the shared contract suite): `take` never returns a build
 * whose system the agent lacks, whose tags disagree with the agent's on a shared
 * key, that is deferred past `now`, canceled, not queued, or waiting for inputs;
 * never the same build twice (a taken build leaves the index: re-`insert` it to
 * requeue); at most `count` builds, and fewer only when no more are eligible.
 * `now` must not go backwards between calls on one index.
 */
export interface AllocationStrategy<I = unknown> {
  /** Name shown in the plan and the configuration (`basic`, `fair-share`, …). */
  readonly name: string;
  /** Builds the index from a snapshot of the queue and the agents. */
  createIndex(snapshot: QueueSnapshot): I;
  /** Adds a build; throws `duplicate-build` if its id is already held. */
  insert(index: I, build: QueuedBuild): void;
  /** Replaces a held build (priority, tags, inputs, cancel…); throws `unknown-build`. */
  update(index: I, build: QueuedBuild): void;
  /** Drops a build; returns whether it was held. */
  remove(index: I, buildId: string): boolean;
  /** These store paths became available: builds waiting only on them become ready. */
  markInputsAvailable(index: I, paths: readonly string[]): void;
  /** The builds producing these store paths failed: dependents become blocked. */
  markInputsFailed(index: I, paths: readonly string[]): void;
  /** Adds or replaces an agent. */
  upsertAgent(index: I, agent: AgentInfo): void;
  /** Forgets an agent; returns whether it was known. */
  removeAgent(index: I, agentId: string): boolean;
  /** Allocates up to `count` builds to the agent and removes them from the index; throws `unknown-agent`. */
  take(index: I, agentId: string, count: number, now: number): QueuedBuild[];
  /** Why the build is (not) being allocated at `now`. */
  explain(index: I, buildId: string, now: number): Explanation;
  /** What each active agent would get next (up to `perAgent` each), leaving the index as it was. */
  plan(index: I, now: number, perAgent: number): AllocationPlan;
  /** How many builds the index holds, by state. */
  counts(index: I): QueueCounts;
}

/** The function names every strategy must provide (used to validate custom modules). */
export const strategyFunctions = [
  'createIndex',
  'insert',
  'update',
  'remove',
  'markInputsAvailable',
  'markInputsFailed',
  'upsertAgent',
  'removeAgent',
  'take',
  'explain',
  'plan',
  'counts',
] as const satisfies readonly (keyof AllocationStrategy)[];
