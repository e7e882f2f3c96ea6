// IndexedHeap against a sorted array under random pushes, pops, removals and key updates.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexedHeap } from './indexed-heap.js';

interface Node {
  heapIndex: number;
  key: number;
  id: number;
}

const before = (a: Node, b: Node) => (a.key !== b.key ? a.key < b.key : a.id < b.id);
const sorted = (nodes: Node[]) => [...nodes].sort((a, b) => a.key - b.key || a.id - b.id).map((n) => n.id);

describe('IndexedHeap', () => {
  it('pops in order after random operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('rekey' as const),
        pick: fc.nat(),
        key: fc.integer({ min: 0, max: 20 }),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20 })),
        fc.array(op, { maxLength: 80 }),
        (initial, ops) => {
          let nextId = 0;
          const live: Node[] = initial.map((key) => ({ heapIndex: -1, key, id: nextId++ }));
          const heap = new IndexedHeap(before, [...live]);
          for (const o of ops) {
            if (o.kind === 'push') {
              const n = { heapIndex: -1, key: o.key, id: nextId++ };
              live.push(n);
              heap.push(n);
            } else if (o.kind === 'pop') {
              const expected = sorted(live)[0];
              expect(heap.pop()?.id).toBe(expected);
              if (expected !== undefined)
                live.splice(
                  live.findIndex((n) => n.id === expected),
                  1,
                );
            } else if (live.length > 0) {
              const n = live[o.pick % live.length] as Node;
              if (o.kind === 'remove') {
                heap.remove(n);
                live.splice(live.indexOf(n), 1);
                expect(n.heapIndex).toBe(-1);
              } else {
                n.key = o.key;
                heap.update(n);
              }
            }
            expect(heap.size).toBe(live.length);
            expect(heap.peek()?.id).toBe(sorted(live)[0]);
          }
          const drained: number[] = [];
          for (let n = heap.pop(); n !== undefined; n = heap.pop()) drained.push(n.id);
          expect(drained).toEqual(sorted(live));
        },
      ),
    );
  });
});
