// Modulo hashes of held derivations recomputed from the datastore with a cold
// memo: a 1,500-deep chain (no recursion), equal to @gbc/store's own values;
// a small memo that evicts still gives the right hashes; unheld paths are absent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDerivationText } from '@gbc/protocol';
import { createClientApp } from './client-app.js';
import { createModuloHashCache, resolveModuloHashes } from './modulo-hashes.js';
import { DIALECTS, startTestCoordinator, syntheticDerivation } from './test-support.js';
import type { SyntheticDerivation, TestCoordinator } from './test-support.js';

describe.each(DIALECTS)('modulo hashes from the datastore on %s', (dialect) => {
  let t: TestCoordinator;
  const chain: SyntheticDerivation[] = [];
  beforeAll(async () => {
    t = await startTestCoordinator(dialect);
    for (let i = 0; i < 1500; i++)
      chain.push(syntheticDerivation(`deep-${dialect}-${i}`, i === 0 ? [] : [chain[i - 1]!]));
    for (let i = 0; i < chain.length; i += 500) {
      const res = await t.json('POST', '/derivations', {
        derivations: chain
          .slice(i, i + 500)
          .map((d) => ({ path: d.path, text: encodeDerivationText(d.bytes) })),
      });
      expect(res.status).toBe(200);
    }
  });
  // undefined when beforeAll failed before the coordinator started
  afterAll(async () => (t as TestCoordinator | undefined)?.close());

  it("recomputes a deep closure with a cold memo, equal to the store's values", async () => {
    const db = t.coordinator.context.datastore.db;
    const top = chain[chain.length - 1]!;
    const hashes = await resolveModuloHashes(
      db,
      [top.path, '/gnu/store/00000000000000000000000000000000-absent.drv'],
      createModuloHashCache(),
    );
    expect(hashes.size).toBe(chain.length);
    for (const d of [chain[0]!, chain[700]!, top]) expect(hashes.get(d.path)).toEqual(d.hashModulo);
    const small = await resolveModuloHashes(db, [top.path], createModuloHashCache(10));
    expect(small.get(top.path)).toEqual(top.hashModulo);
  });

  it('lets a restarted coordinator (cold memo) accept a dependent of the chain', async () => {
    const app = createClientApp(t.coordinator.context, { moduloHashes: createModuloHashCache() });
    const next = syntheticDerivation(`deep-${dialect}-next`, [chain[chain.length - 1]!]);
    const res = await app.request('/derivations', {
      method: 'POST',
      body: JSON.stringify({ derivations: [{ path: next.path, text: encodeDerivationText(next.bytes) }] }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(200);
  });
});
