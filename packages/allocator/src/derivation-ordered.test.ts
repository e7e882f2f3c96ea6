// derivation-ordered: effective priority propagates from dependents to the
// builds they wait on, incrementally, and dependencies go first.
import { describe, expect, it } from 'vitest';
import { createDerivationOrderedStrategy } from './builtin-strategies.js';
import { ag, ids, qb } from './testing/builders.js';

const dep = (id: string) => ({ path: `/p/${id}-out`, buildId: id });

describe('derivation-ordered', () => {
  it('ranks a dependency as high as everything transitively waiting on it', () => {
    const s = createDerivationOrderedStrategy();
    // top (prio 9) waits on mid, mid waits on leaf; other (prio 5) is independent.
    const index = s.createIndex({
      builds: [
        qb('leaf', { priority: 1 }),
        qb('mid', { priority: 0, pendingInputs: [dep('leaf')] }),
        qb('top', { priority: 9, pendingInputs: [dep('mid')] }),
        qb('other', { priority: 5 }),
      ],
      agents: [ag('a')],
    });
    expect(s.explain(index, 'leaf', 0).effectivePriority).toBe(9);
    expect(s.explain(index, 'mid', 0)).toMatchObject({ ready: false, effectivePriority: 9 });
    expect(ids(s.take(index, 'a', 1, 0))).toEqual(['leaf']);
    s.markInputsAvailable(index, ['/p/leaf-out']);
    expect(ids(s.take(index, 'a', 1, 0))).toEqual(['mid']);
    s.markInputsAvailable(index, ['/p/mid-out']);
    expect(ids(s.take(index, 'a', 5, 0))).toEqual(['top', 'other']);
  });

  it('keeps a dependency ranked up while another of its outputs is still pending', () => {
    // Found by the model test (seed -1178995971): one output of `lib` became
    // available and the link to `app`, still waiting on the other, was dropped.
    const s = createDerivationOrderedStrategy();
    const index = s.createIndex({
      builds: [
        qb('lib', { priority: 0 }),
        qb('app', {
          priority: 1,
          pendingInputs: [
            { path: '/p/lib-out', buildId: 'lib' },
            { path: '/p/lib-dev', buildId: 'lib' },
          ],
        }),
      ],
      agents: [ag('a')],
    });
    s.markInputsAvailable(index, ['/p/lib-out']);
    expect(s.explain(index, 'lib', 0).effectivePriority).toBe(1);
    s.markInputsAvailable(index, ['/p/lib-dev']);
    expect(s.explain(index, 'lib', 0).effectivePriority).toBe(0);
  });

  it('maintains effective priority as builds are added, updated, canceled and removed', () => {
    const s = createDerivationOrderedStrategy();
    const index = s.createIndex({
      builds: [qb('lib', { priority: 1 }), qb('app', { priority: 4 })],
      agents: [ag('a')],
    });
    expect(s.explain(index, 'lib', 0).effectivePriority).toBe(1);
    s.insert(index, qb('user', { priority: 7, pendingInputs: [dep('lib')] }));
    expect(s.explain(index, 'lib', 0).effectivePriority).toBe(7);
    s.update(index, qb('user', { priority: 2, pendingInputs: [dep('lib')] }));
    expect(s.explain(index, 'lib', 0).effectivePriority).toBe(2);
    s.update(index, qb('user', { priority: 8, pendingInputs: [dep('lib')], canceled: true }));
    expect(s.explain(index, 'lib', 0).effectivePriority).toBe(1);
    s.update(index, qb('user', { priority: 8, pendingInputs: [dep('lib')] }));
    expect(s.plan(index, 0, 1).agents[0]?.builds.map((b) => [b.id, b.effectivePriority])).toEqual([
      ['lib', 8],
    ]);
    s.remove(index, 'user');
    expect(ids(s.take(index, 'a', 1, 0))).toEqual(['app']);
  });

  it('stops propagating through a failed input and takes the highest dependent in a diamond', () => {
    const s = createDerivationOrderedStrategy();
    const index = s.createIndex({
      builds: [
        qb('base', { priority: 0 }),
        qb('left', { priority: 0, pendingInputs: [dep('base')] }),
        qb('right', { priority: 0, pendingInputs: [dep('base')] }),
        qb('top', { priority: 6, pendingInputs: [dep('left'), dep('right')] }),
        qb('rival', { priority: 3 }),
      ],
      agents: [ag('a')],
    });
    expect(s.explain(index, 'base', 0).effectivePriority).toBe(6);
    s.remove(index, 'top');
    s.insert(index, qb('top', { priority: 6, pendingInputs: [dep('right')] }));
    expect(s.explain(index, 'left', 0).effectivePriority).toBe(0);
    expect(s.explain(index, 'base', 0).effectivePriority).toBe(6);
    s.markInputsFailed(index, ['/p/right-out']);
    expect(s.explain(index, 'right', 0).effectivePriority).toBe(0);
    expect(s.explain(index, 'base', 0).effectivePriority).toBe(0);
    expect(ids(s.take(index, 'a', 1, 0))).toEqual(['rival']);
  });
});
