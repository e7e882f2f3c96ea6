// Effective priority for derivation-ordered allocation: a build ranks as high
// as the highest of itself and everything (transitively) waiting on it. Kept
// up to date incrementally: when a build's rank may have changed, it is
// recomputed from its direct dependents, and only a change travels further
// down to the builds producing its inputs.
import type { BuildEntry, QueueIndex } from './queue-index.js';

/** The rank an entry should have now: its priority, or with propagation the max over live dependents too. */
export function rankOf(index: QueueIndex, entry: BuildEntry): number {
  let rank = entry.build.priority;
  if (!index.behaviour.propagatePriority) return rank;
  const dependents = index.dependents.get(entry.build.id);
  if (dependents === undefined) return rank;
  for (const id of dependents) {
    const d = index.entries.get(id);
    if (d !== undefined && d.status !== 'inactive' && d.rank > rank) rank = d.rank;
  }
  return rank;
}

/**
 * Recomputes the ranks of the given builds and, for each that changed, of the
 * builds producing its pending inputs (a worklist; terminates on any graph).
 */
export function refreshRanks(index: QueueIndex, ids: Iterable<string>): void {
  const work = [...ids];
  for (let id = work.pop(); id !== undefined; id = work.pop()) {
    const entry = index.entries.get(id);
    if (entry === undefined) continue;
    const rank = rankOf(index, entry);
    if (rank === entry.rank) continue;
    entry.rank = rank;
    if (entry.status === 'ready') entry.bucket?.heap.update(entry);
    if (entry.pending !== undefined)
      for (const producer of entry.pending.values()) if (producer !== undefined) work.push(producer);
  }
}
