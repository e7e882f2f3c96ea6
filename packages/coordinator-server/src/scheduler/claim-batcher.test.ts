// The claim batcher against real SQLite and PostgreSQL: concurrent calls share
// transactions yet each gets exactly its builds, a build asked twice goes to
// one caller, and a failing batch rejects every caller in it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createBuilds, openDatastore, recordDerivations } from '@gbc/datastore';
import type { Datastore } from '@gbc/datastore';
import { createTestPlace, fakeDrv } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { createClaimBatcher } from './claim-batcher.js';

describe.each(['sqlite', 'postgres'] as const)('claim batcher on %s', (dialect) => {
  let place: TestPlace;
  let ds: Datastore;
  beforeAll(async () => {
    place = createTestPlace(dialect);
    ds = await openDatastore(place.databaseUri);
  });
  afterAll(async () => {
    await ds.close();
    place.remove();
  });
  const builds = async (n: number, prefix: string) => {
    const drvs = Array.from({ length: n }, (_, i) => fakeDrv(`${prefix}-${i}`));
    await recordDerivations(ds.db, drvs);
    return {
      ids: (
        await createBuilds(
          ds.db,
          drvs.map((d) => ({ derivationPath: d.path })),
        )
      ).map((b) => b.id),
      paths: drvs.map((d) => d.path),
    };
  };

  it('serves 30 concurrent calls in fewer transactions, each with its own builds', async () => {
    const { ids, paths } = await builds(60, 'batch');
    const agents = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => (await createAgent(ds.db, { name: `batch-${i}` })).id),
    );
    const served: number[] = [];
    const batcher = createClaimBatcher(ds.db, {
      leaseMs: 60_000,
      now: () => 1000,
      onBatch: (n) => served.push(n),
    });
    const got = await Promise.all(agents.map((a, i) => batcher.claim(a, [ids[2 * i]!, ids[2 * i + 1]!])));
    for (const [i, claims] of got.entries()) {
      expect(claims.map((c) => c.buildId).sort()).toEqual([ids[2 * i], ids[2 * i + 1]].sort());
      for (const c of claims) expect(c.derivationPath).toBe(paths[ids.indexOf(c.buildId)]);
      expect(claims.every((c) => c.leaseExpiresAt === 61_000)).toBe(true);
    }
    expect(served.reduce((x, y) => x + y, 0)).toBe(30);
    expect(served.length).toBeLessThan(30);
  });

  it('gives a build asked by two callers at once to exactly one', async () => {
    const { ids } = await builds(1, 'twice');
    const [a, b] = [
      (await createAgent(ds.db, { name: 'twice-a' })).id,
      (await createAgent(ds.db, { name: 'twice-b' })).id,
    ];
    const batcher = createClaimBatcher(ds.db, { leaseMs: 60_000, now: () => 1000 });
    const got = await Promise.all([batcher.claim(a, ids), batcher.claim(b, ids), batcher.claim(a, [])]);
    expect(got.flat().map((c) => c.buildId)).toEqual(ids);
  });

  it('rejects every caller of a batch that fails', async () => {
    const other = await openDatastore(place.databaseUri);
    const { ids } = await builds(2, 'fail');
    const agent = (await createAgent(ds.db, { name: 'fail' })).id;
    await other.close();
    const batcher = createClaimBatcher(other.db, { leaseMs: 60_000, now: () => 1000 });
    const results = await Promise.allSettled([
      batcher.claim(agent, [ids[0]!]),
      batcher.claim(agent, [ids[1]!]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});
