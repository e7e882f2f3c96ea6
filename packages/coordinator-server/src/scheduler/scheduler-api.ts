// What the rest of the coordinator asks of the scheduler (the in-memory ready
// queue). Route handlers change the datastore first, then notify the
// scheduler; the datastore stays the authority (a stale entry only costs a
// refused claim).
import type { AllocationPlan, Explanation, QueueCounts } from '@gbc/allocator';
import type { Claim } from '@gbc/datastore';

/** What an agent gets from one fetch-builds. */
export interface FetchedBuild extends Claim {
  readonly system: string;
  readonly priority: number;
  readonly tags: readonly { readonly key: string; readonly value: string }[];
}

/** The scheduler's interface; see the file header. */
export interface Scheduler {
  /** The strategy's name (`basic`, …). */
  readonly strategyName: string;
  /** New builds were created in the datastore: index the queued ones. */
  notifyBuildsCreated(buildIds: readonly string[]): Promise<void>;
  /** Builds were canceled: drop them from the queue. */
  notifyBuildsCanceled(buildIds: readonly string[]): void;
  /** A build's priority changed (already written to the datastore). */
  notifyPriorityChanged(buildId: string, priority: number): Promise<void>;
  /** Store paths (outputs, input sources) became available in the coordinator: wake what waited on them. */
  notifyPathsAvailable(paths: readonly string[]): void;
  /** An agent was activated, deactivated, or its tags changed: reread it; releases a deactivated agent's unstarted builds. */
  notifyAgentChanged(agentId: string): Promise<void>;
  /** Re-reads these builds from the datastore and puts them where they belong (queued → indexed, else dropped). */
  refresh(buildIds: readonly string[]): Promise<void>;
  /** Why a build is (not) being allocated now; `ready: false, reasons: [not-queued]` when the scheduler does not hold it. */
  explain(buildId: string): Explanation;
  /** What each active agent would get next (up to `perAgent` builds each, default 10). */
  plan(perAgent?: number): AllocationPlan;
  /** Counts of held builds by what they wait for. */
  counts(): QueueCounts;
  /** Allocates up to `count` builds of `systems` to the agent: index first, then the datastore's claim. */
  fetchBuilds(agentId: string, count: number, systems: readonly string[]): Promise<FetchedBuild[]>;
}
