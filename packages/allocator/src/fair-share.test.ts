// fair-share: tag values share allocations by their configured shares over a
// sliding window, deterministically with the clock passed in.
import { describe, expect, it } from 'vitest';
import { createFairShareStrategy } from './builtin-strategies.js';
import { AllocatorError } from './errors.js';
import { ag, qb } from './testing/builders.js';
import type { QueuedBuild } from './types.js';

const many = (project: string, n: number, priority = 0): QueuedBuild[] =>
  Array.from({ length: n }, (_, i) =>
    qb(`${project}${String(i).padStart(3, '0')}`, { priority, createdAt: i, tags: { project } }),
  );

const tally = (builds: readonly QueuedBuild[]) => {
  const out: Record<string, number> = {};
  for (const b of builds) out[b.tags.project ?? ''] = (out[b.tags.project ?? ''] ?? 0) + 1;
  return out;
};

describe('fair-share', () => {
  it('splits allocations by shares, whatever the priorities', () => {
    const s = createFairShareStrategy({ tag: 'project', shares: { a: 3, b: 1 }, windowMs: 1_000 });
    const index = s.createIndex({ builds: [...many('a', 100, 0), ...many('b', 100, 50)], agents: [ag('x')] });
    const got: QueuedBuild[] = [];
    for (let i = 0; i < 40; i++) got.push(...s.take(index, 'x', 1, i));
    expect(tally(got)).toEqual({ a: 30, b: 10 });
    // Within a project, priority then age still decide.
    expect(
      got
        .filter((b) => b.tags.project === 'a')
        .map((b) => b.id)
        .slice(0, 3),
    ).toEqual(['a000', 'a001', 'a002']);
  });

  it('gives a newcomer the farm until its usage catches up, and forgets usage after the window', () => {
    const s = createFairShareStrategy({ tag: 'project', windowMs: 100 });
    const index = s.createIndex({ builds: many('a', 50), agents: [ag('x')] });
    expect(tally(s.take(index, 'x', 10, 0))).toEqual({ a: 10 });
    for (const b of many('b', 50)) s.insert(index, b);
    // a used 10 in the window, b none: b gets the next 10, then they alternate.
    expect(tally(s.take(index, 'x', 10, 50))).toEqual({ b: 10 });
    expect(tally(s.take(index, 'x', 4, 60))).toEqual({ a: 2, b: 2 });
    // At 150 the allocations made at 0 and 50 have left the window; only those at 60 count (2 each).
    expect(tally(s.take(index, 'x', 6, 150))).toEqual({ a: 3, b: 3 });
  });

  it('treats builds without the tag as one more group with the default share', () => {
    const s = createFairShareStrategy({ tag: 'project', defaultShare: 2, shares: { a: 1 } });
    const untagged = Array.from({ length: 30 }, (_, i) => qb(`u${String(i).padStart(2, '0')}`));
    const index = s.createIndex({ builds: [...many('a', 30), ...untagged], agents: [ag('x')] });
    expect(tally(s.take(index, 'x', 30, 0))).toEqual({ a: 10, '': 20 });
  });

  it('refuses non-positive shares and windows', () => {
    expect(() => createFairShareStrategy({ shares: { a: 0 } })).toThrow(AllocatorError);
    expect(() => createFairShareStrategy({ windowMs: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid-option' }),
    );
  });
});
