// The closure walk: long chains without recursion, each path loaded once,
// a shared memo, cycles and unreadable inputs refused with typed errors.
import { describe, expect, it } from 'vitest';
import { hashDerivationClosure, loadDerivationClosure } from './closure.js';
import { DerivationError } from './errors.js';
import { makeDerivation, type MadeDerivation } from './test-derivations.js';
import type { Derivation } from './types.js';
import { writeDerivation } from './write.js';

const storeDir = '/gnu/store';

function chain(length: number): MadeDerivation[] {
  const made: MadeDerivation[] = [];
  for (let i = 0; i < length; i++)
    made.push(makeDerivation(storeDir, `link-${i}`, i === 0 ? [] : [made[i - 1]!]));
  return made;
}

describe('loadDerivationClosure', () => {
  it('walks a chain of 3000 derivations, loading each once, inputs first', async () => {
    const made = chain(3000);
    const byPath = new Map(made.map((m) => [m.path, m.bytes]));
    const calls = new Map<string, number>();
    const loader = (path: string): Promise<Uint8Array> => {
      calls.set(path, (calls.get(path) ?? 0) + 1);
      return Promise.resolve(byPath.get(path)!);
    };
    const cache = new Map<string, Derivation>();
    const closure = await loadDerivationClosure(made.at(-1)!.path, loader, { cache });
    expect(closure.order).toEqual(made.map((m) => m.path));
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(calls.size).toBe(3000);
    const hashes = hashDerivationClosure(closure, storeDir);
    expect(hashes.get(made.at(-1)!.path)).toEqual(made.at(-1)!.hashModulo);
    // A second walk through the same memo asks the loader for nothing.
    calls.clear();
    const again = await loadDerivationClosure([made[10]!.path], loader, { cache });
    expect(again.order).toEqual(made.slice(0, 11).map((m) => m.path));
    expect(calls.size).toBe(0);
  });

  it('loads a diamond once per derivation and computes hashes with known outside inputs', async () => {
    const base = makeDerivation(storeDir, 'base');
    const left = makeDerivation(storeDir, 'left', [base]);
    const right = makeDerivation(storeDir, 'right', [base]);
    const top = makeDerivation(storeDir, 'top', [left, right], ['out', 'doc']);
    const all = new Map([base, left, right, top].map((m) => [m.path, m.bytes]));
    let loads = 0;
    const closure = await loadDerivationClosure(
      [top.path, left.path],
      (p) => {
        loads++;
        return Promise.resolve(all.get(p)!);
      },
      { concurrency: 1 },
    );
    expect(loads).toBe(4);
    expect(closure.order.indexOf(base.path)).toBe(0);
    expect(closure.order.at(-1)).toBe(top.path);
    // Only `top` and `left` walked; `right` and `base` hashes given as known.
    const partial = { derivations: new Map([[top.path, top.derivation]]), order: [top.path] };
    const hashes = hashDerivationClosure(
      partial,
      storeDir,
      new Map([
        [left.path, left.hashModulo],
        [right.path, right.hashModulo],
      ]),
    );
    expect(hashes.get(top.path)).toEqual(top.hashModulo);
  });

  it('refuses cycles and unreadable derivations with DerivationError; passes loader failures through', async () => {
    const a = `${storeDir}/${'a'.repeat(32)}-a.drv`;
    const b = `${storeDir}/${'b'.repeat(32)}-b.drv`;
    const text = (input: string): Uint8Array =>
      writeDerivation({
        outputs: new Map([['out', { path: '', hashAlgo: '', hash: '' }]]),
        inputDrvs: new Map([[input, ['out']]]),
        inputSrcs: [],
        system: 's',
        builder: 'b',
        args: [],
        env: new Map(),
      });
    const cyclic = { [a]: text(b), [b]: text(a) } as Record<string, Uint8Array>;
    await expect(loadDerivationClosure(a, (p) => Promise.resolve(cyclic[p]!))).rejects.toMatchObject({
      code: 'drv-cycle',
    });
    const broken = loadDerivationClosure(a, () => Promise.resolve(new TextEncoder().encode('Derive(]')));
    await expect(broken).rejects.toBeInstanceOf(DerivationError);
    await expect(broken).rejects.toMatchObject({ code: 'drv-syntax', field: a });
    await expect(loadDerivationClosure(a, () => Promise.reject(new Error('disk gone')))).rejects.toThrow(
      'disk gone',
    );
  });
});
