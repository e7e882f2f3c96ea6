// Small builders of test data: a queued build and an agent with defaults.
import type { AgentInfo, QueuedBuild } from '../types.js';

/** A queued x86_64-linux build, priority 0, created at 0, no tags, unless overridden. */
export function qb(id: string, over: Partial<QueuedBuild> = {}): QueuedBuild {
  return {
    id,
    derivation: `/gnu/store/${id}-x.drv`,
    system: 'x86_64-linux',
    priority: 0,
    createdAt: 0,
    tags: {},
    ...over,
  };
}

/** An active x86_64-linux agent with no tags, unless overridden. */
export function ag(id: string, over: Partial<AgentInfo> = {}): AgentInfo {
  return { id, systems: ['x86_64-linux'], tags: {}, active: true, ...over };
}

/** Ids of builds, in order. */
export function ids(builds: readonly QueuedBuild[]): string[] {
  return builds.map((b) => b.id);
}
