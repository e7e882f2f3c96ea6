// A seed names one chaos run: the same seed draws the same graph and the same
// actions, another seed other ones; a malformed GBC_CHAOS_SEED is refused
// rather than silently replaced by another seed.
import { describe, expect, it } from 'vitest';
import { drawDag } from './chaos-dag.js';
import { planChaos } from './chaos-plan.js';
import { chaosSeed, createPrng } from './prng.js';

const shape = { actions: 40, agents: 3, leaseSeconds: 20, pausesPastLease: true };
const draw = (seed: number) => {
  const prng = createPrng(seed);
  return { dag: drawDag(prng, 6, 5), plan: planChaos(prng, shape) };
};

describe('a chaos seed', () => {
  it('draws the same graph and plan every time, and another seed draws others', () => {
    expect(draw(123_456)).toEqual(draw(123_456));
    expect(draw(123_456)).not.toEqual(draw(123_457));
  });

  it('draws plans within their bounds: every kind, valid agents, pauses past the lease only when asked', () => {
    for (const pastLease of [true, false]) {
      const plan = planChaos(createPrng(7), { ...shape, actions: 400, pausesPastLease: pastLease });
      expect(new Set(plan.map((a) => a.kind))).toEqual(
        new Set(['kill-coordinator', 'kill-agent', 'pause-agent']),
      );
      const agents = new Set(plan.flatMap((a) => (a.kind === 'kill-coordinator' ? [] : [a.agent])));
      expect([...agents].sort()).toEqual([0, 1, 2]);
      const longest = Math.max(...plan.map((a) => (a.kind === 'pause-agent' ? a.pausedMs : 0)));
      if (pastLease) expect(longest).toBeGreaterThan(20_000);
      else expect(longest).toBeLessThanOrEqual(6000);
    }
  });

  it('draws a layered graph: inputs only from earlier layers', () => {
    const dag = drawDag(createPrng(99), 8, 6);
    const layerOf = new Map(dag.map((n) => [n.name, n.layer]));
    expect(dag).toHaveLength(48);
    for (const n of dag) for (const i of n.inputs) expect(layerOf.get(i)).toBeLessThan(n.layer);
    expect(dag.filter((n) => n.layer > 0).every((n) => n.inputs.length > 0)).toBe(true);
  });

  it('comes from GBC_CHAOS_SEED when set, is refused when malformed, and is random otherwise', () => {
    expect(chaosSeed({ GBC_CHAOS_SEED: '4294967295' })).toBe(4_294_967_295);
    for (const bad of ['-1', '4294967296', '1e3', '0x10', ' 12', 'abc'])
      expect(() => chaosSeed({ GBC_CHAOS_SEED: bad })).toThrow(/GBC_CHAOS_SEED/);
    const drawn = chaosSeed({});
    expect(Number.isInteger(drawn) && drawn >= 0 && drawn < 2 ** 32).toBe(true);
    expect(() => createPrng(2 ** 32)).toThrow(RangeError);
  });
});
