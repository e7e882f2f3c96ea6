// The in-memory index behind the built-in strategies: every held build as an
// entry, ready builds in one heap per bucket (system + the tags agents care
// about + the fair-share value), deferred builds in a heap by time, waiting
// builds only in the maps that will wake them.
import { IndexedHeap, type HeapNode } from './indexed-heap.js';
import type { FairShareState } from './fair-share.js';
import type { AgentInfo, QueuedBuild } from './types.js';

/** Where an entry is: which structure holds it. */
export type EntryStatus = 'ready' | 'deferred' | 'waiting' | 'inactive';

/** One held build and its bookkeeping. */
export interface BuildEntry extends HeapNode {
  build: QueuedBuild;
  status: EntryStatus;
  /** Pending input path → id of the build producing it (if known); undefined when none (saves memory). */
  pending: Map<string, string | undefined> | undefined;
  /** Input paths whose producer failed; undefined when none. */
  failed: Set<string> | undefined;
  /** The priority the entry is ordered by (propagated for derivation-ordered). */
  rank: number;
  /** The bucket whose heap holds it while `ready`. */
  bucket: Bucket | undefined;
}

/** Ready builds sharing a system, the agent-relevant tags and the fair-share value. */
export interface Bucket {
  readonly key: string;
  readonly system: string;
  /** The build tags on keys some agent has. */
  readonly tags: readonly (readonly [string, string])[];
  /** Value of the fair-share tag ('' when the build lacks it), or undefined without fair share. */
  readonly share: string | undefined;
  readonly heap: IndexedHeap<BuildEntry>;
}

/** Resolved behaviour switches of a queue strategy. */
export interface QueueBehaviour {
  readonly name: string;
  readonly propagatePriority: boolean;
  /** `before(a, b)`: a is allocated first. */
  readonly before: (a: BuildEntry, b: BuildEntry) => boolean;
}

/** The mutable index of the built-in strategies. Treat it as opaque outside this package. */
export interface QueueIndex {
  readonly behaviour: QueueBehaviour;
  readonly entries: Map<string, BuildEntry>;
  readonly agents: Map<string, AgentInfo>;
  /** Input path → ids of entries that have it pending or failed. */
  readonly waitersByPath: Map<string, Set<string>>;
  /** Producer build id → ids of entries waiting for one of its outputs. */
  readonly dependents: Map<string, Set<string>>;
  /** Sorted union of every known agent's tag keys. */
  relevantKeys: readonly string[];
  readonly buckets: Map<string, Bucket>;
  /** Bumped whenever a bucket appears or all are rebuilt; invalidates `eligible`. */
  bucketVersion: number;
  readonly eligible: Map<string, { readonly version: number; readonly buckets: readonly Bucket[] }>;
  readonly deferred: IndexedHeap<BuildEntry>;
  /** Highest clock value seen (ms). */
  now: number;
  readonly counts: Record<EntryStatus, number>;
  readonly fair: FairShareState | undefined;
}

/** An empty index with the given behaviour. */
export function createEmptyIndex(behaviour: QueueBehaviour, fair: FairShareState | undefined): QueueIndex {
  return {
    behaviour,
    entries: new Map(),
    agents: new Map(),
    waitersByPath: new Map(),
    dependents: new Map(),
    relevantKeys: [],
    buckets: new Map(),
    bucketVersion: 0,
    eligible: new Map(),
    deferred: new IndexedHeap(deferredBefore),
    now: Number.NEGATIVE_INFINITY,
    counts: { ready: 0, deferred: 0, waiting: 0, inactive: 0 },
    fair,
  };
}

function deferredBefore(a: BuildEntry, b: BuildEntry): boolean {
  const da = a.build.deferUntil ?? 0;
  const db = b.build.deferUntil ?? 0;
  return da !== db ? da < db : a.build.id < b.build.id;
}

/** The bucket key of a build under the index's current relevant keys. */
export function bucketKeyOf(index: QueueIndex, build: QueuedBuild): string {
  let key = build.system;
  for (const k of index.relevantKeys) {
    const v = build.tags[k];
    if (v !== undefined) key += `\u0000${k}=${v}`;
  }
  if (index.fair !== undefined) key += `\u0001${build.tags[index.fair.tag] ?? ''}`;
  return key;
}

/** The bucket for a build, created (empty) if needed. */
export function bucketFor(index: QueueIndex, build: QueuedBuild): Bucket {
  const key = bucketKeyOf(index, build);
  return index.buckets.get(key) ?? makeBucket(index, key, build, []);
}

/** Creates and registers a bucket whose heap is heapified from `nodes` (O(n)). */
function makeBucket(index: QueueIndex, key: string, build: QueuedBuild, nodes: BuildEntry[]): Bucket {
  const tags = index.relevantKeys.flatMap((k) => {
    const v = build.tags[k];
    return v === undefined ? [] : [[k, v] as const];
  });
  const share = index.fair === undefined ? undefined : (build.tags[index.fair.tag] ?? '');
  const bucket: Bucket = {
    key,
    system: build.system,
    tags,
    share,
    heap: new IndexedHeap(index.behaviour.before, nodes),
  };
  for (const node of nodes) node.bucket = bucket;
  index.buckets.set(key, bucket);
  index.bucketVersion++;
  return bucket;
}

/** Files ready entries into buckets in bulk: one heapify per bucket instead of n pushes. */
export function bulkFileReady(index: QueueIndex, ready: readonly BuildEntry[]): void {
  const groups = new Map<string, BuildEntry[]>();
  for (const entry of ready) {
    const key = bucketKeyOf(index, entry.build);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [entry]);
    else group.push(entry);
  }
  for (const [key, group] of groups) {
    const existing = index.buckets.get(key);
    if (existing === undefined) makeBucket(index, key, (group[0] as BuildEntry).build, group);
    else
      for (const entry of group) {
        entry.bucket = existing;
        existing.heap.push(entry);
      }
  }
}

/** Whether the agent may build what the bucket holds (system and shared tag keys agree). */
export function agentAccepts(
  agent: AgentInfo,
  system: string,
  tags: Iterable<readonly [string, string]>,
): boolean {
  if (!agent.systems.includes(system)) return false;
  for (const [k, v] of tags) {
    const mine = agent.tags[k];
    if (mine !== undefined && mine !== v) return false;
  }
  return true;
}

/** The buckets the agent may take from, cached until buckets or the agent change. */
export function eligibleBuckets(index: QueueIndex, agent: AgentInfo): readonly Bucket[] {
  const cached = index.eligible.get(agent.id);
  if (cached !== undefined && cached.version === index.bucketVersion) return cached.buckets;
  const buckets = [...index.buckets.values()].filter((b) => agentAccepts(agent, b.system, b.tags));
  index.eligible.set(agent.id, { version: index.bucketVersion, buckets });
  return buckets;
}

/** Adds an agent's tag keys to the relevant keys; when that changes, rebuilds every bucket (O(n)). */
export function widenRelevantKeys(index: QueueIndex, agent: AgentInfo): void {
  const missing = Object.keys(agent.tags).filter((k) => !index.relevantKeys.includes(k));
  if (missing.length === 0) return;
  index.relevantKeys = [...index.relevantKeys, ...missing].sort();
  const ready: BuildEntry[] = [];
  for (const bucket of index.buckets.values()) for (const entry of bucket.heap.values()) ready.push(entry);
  index.buckets.clear();
  index.eligible.clear();
  index.bucketVersion++;
  bulkFileReady(index, ready);
}
