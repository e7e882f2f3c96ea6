// The allocation plan (`GET /allocation-plan`): what each active agent would
// receive if all asked now, in agent-id order. Computed by really taking the
// builds, then putting them back exactly as they were.
import { expireUsage, restoreUsage, saveUsage } from './fair-share.js';
import { promoteDue, place } from './queue-entries.js';
import type { BuildEntry, QueueIndex } from './queue-index.js';
import { takeEntries } from './take.js';
import type { AllocationPlan, PlannedBuild } from './types.js';

/** Computes the plan for up to `perAgent` builds per active agent; the index is unchanged afterwards. */
export function planAllocations(index: QueueIndex, now: number, perAgent: number): AllocationPlan {
  promoteDue(index, now);
  if (index.fair !== undefined) expireUsage(index.fair, index.now);
  const saved = index.fair === undefined ? undefined : saveUsage(index.fair);
  const agentIds = [...index.agents.values()]
    .filter((a) => a.active)
    .map((a) => a.id)
    .sort();
  const taken: BuildEntry[] = [];
  const agents = agentIds.map((agentId) => {
    const entries = takeEntries(index, agentId, perAgent, index.now);
    taken.push(...entries);
    return { agentId, builds: entries.map(planned) };
  });
  for (const entry of taken) {
    index.entries.set(entry.build.id, entry);
    place(index, entry, 'ready');
  }
  if (index.fair !== undefined && saved !== undefined) restoreUsage(index.fair, saved);
  return { at: index.now, strategy: index.behaviour.name, counts: { ...index.counts }, agents };
}

function planned(entry: BuildEntry): PlannedBuild {
  const b = entry.build;
  return {
    id: b.id,
    derivation: b.derivation,
    system: b.system,
    priority: b.priority,
    effectivePriority: entry.rank,
  };
}
