// A naive reference allocator for model-based tests: it keeps plain arrays and
// rescans everything on every call, so it is obviously right and slow. The
// real strategies must give exactly the same answers.
import type { FairShareOptions } from '../fair-share.js';
import type { AgentInfo, QueuedBuild } from '../types.js';

/** Which behaviour of the strategies the reference reproduces. */
export interface ReferenceOptions {
  readonly propagatePriority?: boolean;
  readonly compare?: (a: QueuedBuild, b: QueuedBuild) => number;
  readonly fairShare?: FairShareOptions;
}

interface ModelBuild {
  build: QueuedBuild;
  pending: Map<string, string | undefined>;
  failed: Set<string>;
}

/** The naive allocator's state and operations (same semantics as AllocationStrategy). */
export class ReferenceAllocator {
  readonly builds = new Map<string, ModelBuild>();
  readonly agents = new Map<string, AgentInfo>();
  private now = Number.NEGATIVE_INFINITY;
  private readonly events: { at: number; value: string }[] = [];

  constructor(private readonly options: ReferenceOptions) {}

  insert(build: QueuedBuild): void {
    const failed = new Set(build.failedInputs ?? []);
    const pending = new Map<string, string | undefined>();
    for (const i of build.pendingInputs ?? []) if (!failed.has(i.path)) pending.set(i.path, i.buildId);
    this.builds.set(build.id, { build, pending, failed });
  }

  remove(id: string): boolean {
    return this.builds.delete(id);
  }

  markInputsAvailable(paths: readonly string[]): void {
    for (const m of this.builds.values())
      for (const p of paths) {
        m.pending.delete(p);
        m.failed.delete(p);
      }
  }

  markInputsFailed(paths: readonly string[]): void {
    for (const m of this.builds.values())
      for (const p of paths)
        if (m.pending.has(p)) {
          m.pending.delete(p);
          m.failed.add(p);
        }
  }

  /** The clock moved (plans and explanations promote deferred builds too). */
  observe(now: number): void {
    this.now = Math.max(this.now, now);
  }

  /** Builds by state at the last clock value seen, as AllocationStrategy.counts reports them. */
  counts(): { ready: number; deferred: number; waiting: number; inactive: number } {
    const t = this.now;
    const c = { ready: 0, deferred: 0, waiting: 0, inactive: 0 };
    for (const m of this.builds.values()) {
      if (!active(m.build)) c.inactive++;
      else if (m.pending.size > 0 || m.failed.size > 0) c.waiting++;
      else if (m.build.deferUntil !== undefined && m.build.deferUntil > t) c.deferred++;
      else c.ready++;
    }
    return c;
  }

  /** Whether the build could be allocated to some active agent at `now`. */
  isReady(id: string, now: number): boolean {
    const m = this.builds.get(id);
    if (m === undefined || !this.allocatable(m, Math.max(now, this.now))) return false;
    return [...this.agents.values()].some((a) => a.active && accepts(a, m.build));
  }

  take(agentId: string, count: number, now: number): QueuedBuild[] {
    const agent = this.agents.get(agentId);
    if (agent === undefined) throw new Error(`unknown agent ${agentId}`);
    this.now = Math.max(this.now, now);
    const out: QueuedBuild[] = [];
    if (!agent.active) return out;
    while (out.length < count) {
      const ranks = this.ranks();
      const candidates = [...this.builds.values()].filter(
        (m) => this.allocatable(m, this.now) && accepts(agent, m.build),
      );
      if (candidates.length === 0) break;
      candidates.sort((a, b) => this.order(a.build, b.build, ranks));
      const chosen = (candidates[0] as ModelBuild).build;
      this.builds.delete(chosen.id);
      if (this.options.fairShare !== undefined)
        this.events.push({ at: this.now, value: this.shareValue(chosen) });
      out.push(chosen);
    }
    return out;
  }

  private allocatable(m: ModelBuild, now: number): boolean {
    const b = m.build;
    return (
      active(b) &&
      m.pending.size === 0 &&
      m.failed.size === 0 &&
      (b.deferUntil === undefined || b.deferUntil <= now)
    );
  }

  private order(a: QueuedBuild, b: QueuedBuild, ranks: Map<string, number>): number {
    const fair = this.options.fairShare;
    if (fair !== undefined) {
      const d = this.ratio(this.shareValue(a)) - this.ratio(this.shareValue(b));
      if (d !== 0) return d;
    }
    if (this.options.compare !== undefined) {
      const c = this.options.compare(a, b);
      if (c !== 0) return c;
    } else {
      const d = (ranks.get(b.id) ?? b.priority) - (ranks.get(a.id) ?? a.priority);
      if (d !== 0) return d;
      if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  private shareValue(b: QueuedBuild): string {
    return b.tags[this.options.fairShare?.tag ?? 'project'] ?? '';
  }

  private ratio(value: string): number {
    const fair = this.options.fairShare ?? {};
    const window = fair.windowMs ?? 3_600_000;
    const used = this.events.filter((e) => e.value === value && e.at > this.now - window).length;
    return used / (fair.shares?.[value] ?? fair.defaultShare ?? 1);
  }

  /** Effective priorities, recomputed from scratch (memoised depth-first over dependents). */
  ranks(): Map<string, number> {
    const memo = new Map<string, number>();
    const rank = (id: string): number => {
      const known = memo.get(id);
      if (known !== undefined) return known;
      const m = this.builds.get(id) as ModelBuild;
      let r = m.build.priority;
      if (this.options.propagatePriority === true)
        for (const d of this.builds.values())
          if (active(d.build) && [...d.pending.values()].includes(id)) r = Math.max(r, rank(d.build.id));
      memo.set(id, r);
      return r;
    };
    for (const id of this.builds.keys()) rank(id);
    return memo;
  }
}

function active(b: QueuedBuild): boolean {
  return b.canceled !== true && (b.state ?? 'queued') === 'queued';
}

function accepts(agent: AgentInfo, b: QueuedBuild): boolean {
  if (!agent.systems.includes(b.system)) return false;
  return Object.entries(b.tags).every(([k, v]) => agent.tags[k] === undefined || agent.tags[k] === v);
}
