// "Why is this build not being allocated?": every reason that holds at `now`,
// from the build's own state to whether any active agent could take it.
import { agentAccepts, type QueueIndex } from './queue-index.js';
import type { AgentInfo, BlockReason, Explanation, QueuedBuild } from './types.js';

/** Explains one build held (or not) by the index. */
export function explainBuild(index: QueueIndex, buildId: string, now: number): Explanation {
  const entry = index.entries.get(buildId);
  if (entry === undefined) return { buildId, ready: false, reasons: [{ kind: 'not-queued' }] };
  const b = entry.build;
  if (b.canceled === true || b.state === 'canceled')
    return { buildId, ready: false, reasons: [{ kind: 'canceled' }] };
  if ((b.state ?? 'queued') !== 'queued')
    return { buildId, ready: false, reasons: [{ kind: 'not-queued', state: b.state }] };
  const reasons: BlockReason[] = [];
  if (entry.pending !== undefined)
    reasons.push({
      kind: 'inputs-pending',
      inputs: [...entry.pending].map(([path, buildId]) =>
        buildId === undefined ? { path } : { path, buildId },
      ),
    });
  if (entry.failed !== undefined) reasons.push({ kind: 'inputs-failed', inputs: [...entry.failed] });
  if (b.deferUntil !== undefined && b.deferUntil > Math.max(now, index.now))
    reasons.push({ kind: 'deferred', until: b.deferUntil });
  const agentReason = agentMismatch([...index.agents.values()], b);
  if (agentReason !== undefined) reasons.push(agentReason);
  return { buildId, ready: reasons.length === 0, effectivePriority: entry.rank, reasons };
}

/** The reason no active agent can take the build, or undefined if one can. */
export function agentMismatch(agents: readonly AgentInfo[], build: QueuedBuild): BlockReason | undefined {
  const bySystem = agents.filter((a) => a.active && a.systems.includes(build.system));
  if (bySystem.length === 0) return { kind: 'no-agent-for-system', system: build.system };
  const tags = Object.entries(build.tags);
  if (bySystem.some((a) => agentAccepts(a, build.system, tags))) return undefined;
  const conflicts = bySystem
    .map((a) => ({
      agentId: a.id,
      keys: tags.filter(([k, v]) => a.tags[k] !== undefined && a.tags[k] !== v).map(([k]) => k),
    }))
    .sort((x, y) => (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : 0));
  return { kind: 'no-agent-for-tags', system: build.system, conflicts };
}
