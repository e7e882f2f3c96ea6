// Property tests of the retention planner over random reference graphs: the
// kept set is closed under references, holds every input of unfinished
// builds, fits the budget unless those alone exceed it, and partitions the outputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRetention } from './plan.js';
import type { RetainedOutput } from './plan.js';
import { resolveRetentionPolicy } from './policy.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27);

const graph = fc.integer({ min: 0, max: 25 }).chain((n) =>
  fc.tuple(
    fc.array(
      fc.record({
        refs: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 4 }),
        bytes: fc.integer({ min: 0, max: 1000 }),
        age: fc.integer({ min: 0, max: 60 }),
      }),
      { minLength: n, maxLength: n },
    ),
    fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 4 }),
    fc.option(fc.integer({ min: 0, max: 60 })),
    fc.option(fc.integer({ min: 0, max: 20000 })),
  ),
);

describe('planRetention', () => {
  it('keeps a reference-closed set with every needed input, within budget, and removes the rest', () => {
    fc.assert(
      fc.property(graph, ([items, needed, outputDays, budget]) => {
        const outputs: RetainedOutput[] = items.map((it, i) => ({
          storePath: `p${i}`,
          references: it.refs.map((r) => `p${r}`),
          bytes: it.bytes,
          keptSince: NOW - it.age * DAY,
        }));
        const plan = planRetention({
          outputs,
          logs: [],
          needed: new Set(needed.map((i) => `p${i}`)),
          now: NOW,
          policy: resolveRetentionPolicy({ outputDays, narBudgetBytes: budget }),
        });
        const known = new Set(outputs.map((o) => o.storePath));
        for (const o of outputs) {
          if (!plan.kept.has(o.storePath)) continue;
          for (const r of o.references) if (known.has(r)) expect(plan.kept.has(r)).toBe(true);
        }
        for (const i of needed) if (known.has(`p${i}`)) expect(plan.kept.has(`p${i}`)).toBe(true);
        const removed = new Set(plan.removeOutputs.map((o) => o.storePath));
        expect(removed.size + plan.kept.size).toBe(outputs.length);
        for (const r of removed) expect(plan.kept.has(r)).toBe(false);
        expect(plan.keptBytes).toBe(
          outputs.filter((o) => plan.kept.has(o.storePath)).reduce((s, o) => s + o.bytes, 0),
        );
        if (budget !== null && !plan.overBudget) expect(plan.keptBytes).toBeLessThanOrEqual(budget);
        if (outputDays === null && budget === null) expect(plan.removeOutputs).toEqual([]);
        // Nothing young enough and within budget is removed unless something younger was kept at its expense.
        if (budget === null && outputDays !== null)
          for (const o of plan.removeOutputs) expect(o.keptSince).toBeLessThan(NOW - outputDays * DAY);
      }),
      { numRuns: 300 },
    );
  });

  it('drops logs ended before the cutoff only', () => {
    const logs = [
      { attemptId: 1, key: 'a', endedAt: NOW - 4 * DAY },
      { attemptId: 2, key: 'b', endedAt: NOW - 2 * DAY },
    ];
    const plan = planRetention({
      outputs: [],
      logs,
      needed: new Set(),
      now: NOW,
      policy: resolveRetentionPolicy({ logDays: 3 }),
    });
    expect(plan.removeLogs.map((l) => l.key)).toEqual(['a']);
    expect(() => resolveRetentionPolicy({ logDays: -1 })).toThrow(RangeError);
  });
});
