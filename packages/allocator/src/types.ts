// The data the allocator works on: queued builds, agents, and what it answers
// (allocations, explanations, the allocation plan).

/** States a build can be in (the datastore's vocabulary). Only `queued` builds are allocatable. */
export type BuildState = 'queued' | 'allocated' | 'started' | 'succeeded' | 'failed' | 'canceled';

/** An input store path that is not available yet, and the queued build expected to produce it, if any. */
export interface PendingInput {
  /** Store path of the missing input (an output of another derivation). */
  readonly path: string;
  /** Id of the build that will produce it; links dependency and dependent for `derivation-ordered`. */
  readonly buildId?: string;
}

/** One build as the allocator sees it. Times are milliseconds since the Unix epoch. */
export interface QueuedBuild {
  /** Build uuid. */
  readonly id: string;
  /** Store path of the derivation to build. */
  readonly derivation: string;
  /** The derivation's system, e.g. `x86_64-linux`. */
  readonly system: string;
  /** Higher runs first. Any finite number. */
  readonly priority: number;
  /** Creation time (ms); older runs first among equal priorities. */
  readonly createdAt: number;
  /** Not allocatable before this time (ms), when set. */
  readonly deferUntil?: number;
  /** Build tags, key → value. */
  readonly tags: Readonly<Record<string, string>>;
  /** Datastore state; anything but `queued` is kept only to be explained. Default `queued`. */
  readonly state?: BuildState;
  /** Inputs that are not available yet; the build is not ready while any remain. */
  readonly pendingInputs?: readonly PendingInput[];
  /** Inputs whose producing builds failed; the build is blocked while any remain. */
  readonly failedInputs?: readonly string[];
  /** Canceled builds are never allocated. */
  readonly canceled?: boolean;
}

/** A build agent as the allocator sees it. */
export interface AgentInfo {
  /** Agent uuid. */
  readonly id: string;
  /** Systems it builds for. */
  readonly systems: readonly string[];
  /** Agent tags, key → value; a build must agree on every key both have. */
  readonly tags: Readonly<Record<string, string>>;
  /** Inactive agents receive nothing. */
  readonly active: boolean;
  /** Last reported load (informational; strategies may use it). */
  readonly load?: number;
}

/** What a strategy's index is built from. */
export interface QueueSnapshot {
  readonly builds: readonly QueuedBuild[];
  readonly agents: readonly AgentInfo[];
}

/** Why a build is not being allocated. */
export type BlockReason =
  | { readonly kind: 'not-queued'; readonly state?: BuildState }
  | { readonly kind: 'canceled' }
  | { readonly kind: 'deferred'; readonly until: number }
  | { readonly kind: 'inputs-pending'; readonly inputs: readonly PendingInput[] }
  | { readonly kind: 'inputs-failed'; readonly inputs: readonly string[] }
  | { readonly kind: 'no-agent-for-system'; readonly system: string }
  | {
      readonly kind: 'no-agent-for-tags';
      readonly system: string;
      /** For each active agent of the system, the tag keys on which it disagrees. */
      readonly conflicts: readonly { readonly agentId: string; readonly keys: readonly string[] }[];
    };

/** The answer to "why is this build not being allocated?". */
export interface Explanation {
  readonly buildId: string;
  /** True when nothing blocks the build: it waits only for its turn. */
  readonly ready: boolean;
  /** The priority the strategy orders it by (propagated for `derivation-ordered`), when queued. */
  readonly effectivePriority?: number;
  /** Empty when `ready`. */
  readonly reasons: readonly BlockReason[];
}

/** A build the plan would hand to an agent. */
export interface PlannedBuild {
  readonly id: string;
  readonly derivation: string;
  readonly system: string;
  readonly priority: number;
  readonly effectivePriority: number;
}

/** Counts of the builds an index holds, by what they wait for. */
export interface QueueCounts {
  readonly ready: number;
  readonly deferred: number;
  /** Waiting for inputs (pending or failed). */
  readonly waiting: number;
  /** Canceled or not in the `queued` state. */
  readonly inactive: number;
}

/** `GET /allocation-plan`: what each active agent would receive next, if it asked now. */
export interface AllocationPlan {
  /** The clock value the plan was computed for (ms). */
  readonly at: number;
  readonly strategy: string;
  readonly counts: QueueCounts;
  /** Active agents in id order, each with up to the requested number of builds. */
  readonly agents: readonly { readonly agentId: string; readonly builds: readonly PlannedBuild[] }[];
}
