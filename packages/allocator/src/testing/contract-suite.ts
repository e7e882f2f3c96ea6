// The contract every allocation strategy must honour, as a function that
// registers a vitest suite for one strategy. Run for each built-in and for a
// custom strategy loaded from a module.
import { describe, expect, it } from 'vitest';
import { AllocatorError } from '../errors.js';
import type { AllocationStrategy } from '../strategy.js';
import type { QueuedBuild } from '../types.js';
import { ag, ids, qb } from './builders.js';
import { registerModelTest } from './model-test.js';
import type { ReferenceOptions } from './reference-allocator.js';

/** How to run the suite for one strategy. */
export interface ContractOptions {
  /** Name in the test titles. */
  readonly label: string;
  /** A fresh strategy (may be async, e.g. loaded from a module). */
  readonly make: () => AllocationStrategy | Promise<AllocationStrategy>;
  /** The order it promises among ready untagged builds of one system, or undefined if none. */
  readonly order?: (a: QueuedBuild, b: QueuedBuild) => number;
  /** The reference behaviour for the model-based test. */
  readonly reference: ReferenceOptions;
}

/** Default order promise: higher priority, then older, then smaller id. */
export function priorityOrder(a: QueuedBuild, b: QueuedBuild): number {
  return b.priority - a.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Registers the contract suite for one strategy. */
export function runContractSuite(options: ContractOptions): void {
  const fresh = async (builds: QueuedBuild[], agents = [ag('a')]) => {
    const s = await options.make();
    return { s, index: s.createIndex({ builds, agents }) };
  };

  describe(`contract: ${options.label}`, () => {
    it('never gives a build whose system the agent lacks', async () => {
      const { s, index } = await fresh([qb('arm', { system: 'aarch64-linux' }), qb('x86')]);
      expect(ids(s.take(index, 'a', 10, 0))).toEqual(['x86']);
      expect(s.explain(index, 'arm', 0).reasons).toEqual([
        { kind: 'no-agent-for-system', system: 'aarch64-linux' },
      ]);
    });

    it('honours tags on shared keys only', async () => {
      const builds = [
        qb('big', { tags: { machine: 'big' } }),
        qb('small', { tags: { machine: 'small' } }),
        qb('any', { tags: { project: 'p' } }),
      ];
      const { s, index } = await fresh(builds, [ag('a', { tags: { machine: 'small' } })]);
      expect(ids(s.take(index, 'a', 10, 0)).sort()).toEqual(['any', 'small']);
      expect(s.explain(index, 'big', 0).reasons).toEqual([
        {
          kind: 'no-agent-for-tags',
          system: 'x86_64-linux',
          conflicts: [{ agentId: 'a', keys: ['machine'] }],
        },
      ]);
      s.upsertAgent(index, ag('b'));
      expect(ids(s.take(index, 'b', 10, 0))).toEqual(['big']);
    });

    it('holds deferred builds until the clock passes', async () => {
      const { s, index } = await fresh([qb('later', { deferUntil: 100 })]);
      expect(s.take(index, 'a', 1, 99)).toEqual([]);
      expect(s.explain(index, 'later', 99).reasons).toEqual([{ kind: 'deferred', until: 100 }]);
      expect(ids(s.take(index, 'a', 1, 100))).toEqual(['later']);
    });

    it('never gives canceled or non-queued builds', async () => {
      const { s, index } = await fresh([qb('c', { canceled: true }), qb('s', { state: 'started' }), qb('q')]);
      s.update(index, qb('q', { canceled: true }));
      expect(s.take(index, 'a', 10, 0)).toEqual([]);
      expect(s.explain(index, 'c', 0).reasons).toEqual([{ kind: 'canceled' }]);
      expect(s.explain(index, 's', 0).reasons).toEqual([{ kind: 'not-queued', state: 'started' }]);
      expect(s.counts(index)).toEqual({ ready: 0, deferred: 0, waiting: 0, inactive: 3 });
    });

    it('waits for pending inputs and is blocked by failed ones', async () => {
      const { s, index } = await fresh([
        qb('w', { pendingInputs: [{ path: '/p/one', buildId: 'dep' }, { path: '/p/two' }] }),
        qb('f', { failedInputs: ['/p/bad'] }),
      ]);
      expect(s.take(index, 'a', 10, 0)).toEqual([]);
      expect(s.explain(index, 'w', 0).reasons).toEqual([
        { kind: 'inputs-pending', inputs: [{ path: '/p/one', buildId: 'dep' }, { path: '/p/two' }] },
      ]);
      expect(s.explain(index, 'f', 0).reasons).toEqual([{ kind: 'inputs-failed', inputs: ['/p/bad'] }]);
      s.markInputsAvailable(index, ['/p/one']);
      s.markInputsFailed(index, ['/p/two']);
      expect(s.take(index, 'a', 10, 0)).toEqual([]);
      expect(s.explain(index, 'w', 0).reasons).toEqual([{ kind: 'inputs-failed', inputs: ['/p/two'] }]);
      s.markInputsAvailable(index, ['/p/two', '/p/bad']);
      expect(s.explain(index, 'w', 0)).toMatchObject({ ready: true, reasons: [] });
      expect(ids(s.take(index, 'a', 10, 0)).sort()).toEqual(['f', 'w']);
    });

    it('takes exactly up to count and never the same build twice', async () => {
      const builds = Array.from({ length: 10 }, (_, i) => qb(`b${i}`, { priority: i % 3, createdAt: i }));
      const { s, index } = await fresh(builds, [ag('a'), ag('b')]);
      const first = s.take(index, 'a', 3, 0);
      const second = s.take(index, 'b', 100, 0);
      expect(first).toHaveLength(3);
      expect(second).toHaveLength(7);
      expect(new Set([...ids(first), ...ids(second)]).size).toBe(10);
      expect(s.take(index, 'a', 5, 0)).toEqual([]);
      expect(s.explain(index, 'b0', 0).reasons).toEqual([{ kind: 'not-queued' }]);
    });

    it('gives nothing to inactive agents and refuses unknown ones', async () => {
      const { s, index } = await fresh([qb('x')], [ag('off', { active: false })]);
      expect(s.take(index, 'off', 5, 0)).toEqual([]);
      expect(s.explain(index, 'x', 0).reasons).toEqual([
        { kind: 'no-agent-for-system', system: 'x86_64-linux' },
      ]);
      expect(() => s.take(index, 'ghost', 1, 0)).toThrow(expect.objectContaining({ code: 'unknown-agent' }));
      expect(() => s.insert(index, qb('x'))).toThrow(AllocatorError);
      expect(() => s.update(index, qb('nope'))).toThrow(expect.objectContaining({ code: 'unknown-build' }));
    });

    it('plans without changing the index', async () => {
      const builds = Array.from({ length: 6 }, (_, i) => qb(`b${i}`, { priority: i, createdAt: i }));
      const { s, index } = await fresh(builds, [ag('a'), ag('b')]);
      const plan = s.plan(index, 0, 2);
      expect(plan.agents.map((a) => a.agentId)).toEqual(['a', 'b']);
      expect(plan.counts.ready).toBe(6);
      const planned = plan.agents.flatMap((a) => a.builds.map((b) => b.id));
      expect(new Set(planned).size).toBe(4);
      expect(s.counts(index).ready).toBe(6);
      expect(ids(s.take(index, 'a', 2, 0))).toEqual(plan.agents[0]?.builds.map((b) => b.id));
    });

    if (options.order !== undefined) {
      const order = options.order;
      it('allocates in the promised order', async () => {
        const builds = Array.from({ length: 40 }, (_, i) =>
          qb(`b${String(i).padStart(2, '0')}`, { priority: (i * 7) % 5, createdAt: (i * 13) % 9 }),
        );
        const { s, index } = await fresh(builds);
        const got = [...s.take(index, 'a', 15, 0), ...s.take(index, 'a', 100, 0)];
        expect(ids(got)).toEqual(ids([...builds].sort(order)));
      });
    }

    registerModelTest(options.make, options.reference);
  });
}
