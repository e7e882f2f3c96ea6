// Model-based property test: random sequences of operations applied to a
// strategy and to the naive ReferenceAllocator must give identical takes,
// readiness and counts.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { AllocationStrategy } from '../strategy.js';
import type { AgentInfo, QueuedBuild } from '../types.js';
import { ReferenceAllocator, type ReferenceOptions } from './reference-allocator.js';

const SYSTEMS = ['x86_64-linux', 'aarch64-linux'];
const PATHS = ['p0', 'p1', 'p2', 'p3', 'p4'];
const POOL = 10;

const tagsArb = fc.record(
  { machine: fc.constantFrom('big', 'small'), project: fc.constantFrom('a', 'b', 'c') },
  { requiredKeys: [] },
);

/** A build with id `b<i>`; its pending inputs may name producers with a smaller index only (a DAG). */
const buildArb: fc.Arbitrary<QueuedBuild> = fc
  .record({
    i: fc.integer({ min: 0, max: POOL - 1 }),
    system: fc.constantFrom(...SYSTEMS),
    priority: fc.integer({ min: 0, max: 3 }),
    createdAt: fc.integer({ min: 0, max: 5 }),
    deferUntil: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    tags: tagsArb,
    pending: fc.array(
      fc.record({ path: fc.constantFrom(...PATHS), producer: fc.integer({ min: 0, max: POOL - 1 }) }),
      { maxLength: 2 },
    ),
    failed: fc.array(fc.constantFrom(...PATHS), { maxLength: 1 }),
    canceled: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  })
  .map((r) => ({
    id: `b${r.i}`,
    derivation: `/gnu/store/b${r.i}.drv`,
    system: r.system,
    priority: r.priority,
    createdAt: r.createdAt,
    ...(r.deferUntil === undefined ? {} : { deferUntil: r.deferUntil }),
    tags: r.tags,
    pendingInputs: r.pending.map((p) =>
      p.producer < r.i ? { path: p.path, buildId: `b${p.producer}` } : { path: p.path },
    ),
    failedInputs: r.failed,
    canceled: r.canceled,
  }));

const agentArb: fc.Arbitrary<AgentInfo> = fc.record({
  id: fc.constantFrom('a0', 'a1', 'a2'),
  systems: fc.subarray(SYSTEMS),
  tags: fc.record({ machine: fc.constantFrom('big', 'small') }, { requiredKeys: [] }),
  active: fc.boolean(),
});

type Op =
  | { op: 'insert' | 'update'; build: QueuedBuild }
  | { op: 'remove' | 'ready'; id: string }
  | { op: 'available' | 'failed'; paths: string[] }
  | { op: 'agent'; agent: AgentInfo }
  | { op: 'take'; agentId: string; count: number; dt: number }
  | { op: 'plan'; dt: number };

const idArb = fc.integer({ min: 0, max: POOL - 1 }).map((i) => `b${i}`);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('insert' as const, 'update' as const), build: buildArb }),
  fc.record({ op: fc.constantFrom('remove' as const, 'ready' as const), id: idArb }),
  fc.record({
    op: fc.constantFrom('available' as const, 'failed' as const),
    paths: fc.subarray(PATHS, { minLength: 1 }),
  }),
  fc.record({ op: fc.constant('agent' as const), agent: agentArb }),
  fc.record({
    op: fc.constant('take' as const),
    agentId: fc.constantFrom('a0', 'a1', 'a2'),
    count: fc.integer({ min: 0, max: 4 }),
    dt: fc.integer({ min: 0, max: 6 }),
  }),
  fc.record({ op: fc.constant('plan' as const), dt: fc.integer({ min: 0, max: 3 }) }),
);

/** Registers the model-based test for one strategy. */
export function registerModelTest(
  make: () => AllocationStrategy | Promise<AllocationStrategy>,
  reference: ReferenceOptions,
): void {
  it('matches the naive reference under random operation sequences', async () => {
    const strategy = await make();
    fc.assert(
      fc.property(
        fc.uniqueArray(buildArb, { selector: (b) => b.id, maxLength: POOL }),
        fc.uniqueArray(agentArb, { selector: (a) => a.id }),
        fc.array(opArb, { maxLength: 60 }),
        (builds, agents, ops) => {
          const index = strategy.createIndex({ builds, agents });
          const model = new ReferenceAllocator(reference);
          for (const b of builds) model.insert(b);
          for (const a of agents) model.agents.set(a.id, a);
          let now = 0;
          for (const op of ops) {
            apply(strategy, index, model, op, (dt) => (now += dt));
            expect(strategy.counts(index)).toEqual(model.counts());
          }
          expect(strategy.counts(index)).toEqual(model.counts());
        },
      ),
      { numRuns: 1000 },
    );
  });
}

function apply(
  s: AllocationStrategy,
  index: unknown,
  model: ReferenceAllocator,
  op: Op,
  advance: (dt: number) => number,
): void {
  switch (op.op) {
    case 'insert':
      if (model.builds.has(op.build.id)) return expect(() => s.insert(index, op.build)).toThrow();
      s.insert(index, op.build);
      return model.insert(op.build);
    case 'update':
      if (!model.builds.has(op.build.id)) return expect(() => s.update(index, op.build)).toThrow();
      s.update(index, op.build);
      model.remove(op.build.id);
      return model.insert(op.build);
    case 'remove':
      return expect(s.remove(index, op.id)).toBe(model.remove(op.id));
    case 'ready': {
      const explanation = s.explain(index, op.id, advance(0));
      expect(explanation.ready).toBe(model.isReady(op.id, advance(0)));
      if (explanation.effectivePriority !== undefined)
        expect(explanation.effectivePriority).toBe(model.ranks().get(op.id));
      return;
    }
    case 'available':
      s.markInputsAvailable(index, op.paths);
      return model.markInputsAvailable(op.paths);
    case 'failed':
      s.markInputsFailed(index, op.paths);
      return model.markInputsFailed(op.paths);
    case 'agent':
      s.upsertAgent(index, op.agent);
      return void model.agents.set(op.agent.id, op.agent);
    case 'plan': {
      const before = s.counts(index);
      const now = advance(op.dt);
      s.plan(index, now, 2);
      model.observe(now);
      return expect(s.counts(index).ready + s.counts(index).deferred).toBe(before.ready + before.deferred);
    }
    case 'take': {
      const now = advance(op.dt);
      if (!model.agents.has(op.agentId))
        return expect(() => s.take(index, op.agentId, op.count, now)).toThrow();
      const got = s.take(index, op.agentId, op.count, now).map((b) => b.id);
      return expect(got).toEqual(model.take(op.agentId, op.count, now).map((b) => b.id));
    }
  }
}
