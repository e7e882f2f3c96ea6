// Batched claims (group commit of concurrent fetch-builds) on both dialects:
// each request gets its own builds with its agent's attempts, a build named
// twice goes to the first request, and racing batches never share a build.
import { describe, expect, it } from 'vitest';
import { createAgent } from './agents.js';
import { claimBuildsForAgents } from './attempts-claim-many.js';
import { listOpenAttempts } from './attempts-query.js';
import { createBuilds } from './builds-create.js';
import { getBuild } from './builds-show.js';
import { recordDerivations } from './derivations.js';
import { fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('batched claims on %s', (dialect) => {
  const ctx = useDatastore(dialect);
  const agent = async (name: string) => (await createAgent(ctx.store.db, { name: `${name}-${Math.random()}`, systems: ['x86_64-linux'] })).id;
  const builds = async (n: number, options: { timeout?: number; maxSilentTime?: number } = {}) => {
    const drvs = Array.from({ length: n }, (_, i) => fakeDerivation(`many-${i}`));
    await recordDerivations(ctx.store.db, drvs);
    const made = await createBuilds(ctx.store.db, drvs.map((d) => ({ derivationPath: d.path, ...options })));
    return { ids: made.map((m) => m.id), paths: drvs.map((d) => d.path) };
  };

  it('gives each request its builds, with its agent, the derivation and the time limits', async () => {
    const { ids, paths } = await builds(5, { timeout: 600, maxSilentTime: 60 });
    const [a, b] = [await agent('a'), await agent('b')];
    const got = await claimBuildsForAgents(ctx.store.db, [
      { agentId: a, buildIds: [ids[0]!, ids[1]!] },
      { agentId: b, buildIds: [ids[2]!, ids[1]!] },
      { agentId: a, buildIds: [ids[3]!] },
      { agentId: b, buildIds: [] },
    ], { leaseMs: 1000, now: 50 });
    expect(got.map((l) => l.map((c) => c.buildId).sort())).toEqual([[ids[0], ids[1]].sort(), [ids[2]], [ids[3]], []]);
    const first = got[0]!.find((c) => c.buildId === ids[0])!;
    expect(first).toMatchObject({ derivationPath: paths[0], leaseExpiresAt: 1050, timeoutS: 600, maxSilentTimeS: 60 });
    const open = await listOpenAttempts(ctx.store.db);
    const agentOfAttempt = new Map(open.map((o) => [o.id, o.agentId]));
    for (const [i, who] of [[0, a], [1, b], [2, a]] as const) for (const c of got[i]!) expect(agentOfAttempt.get(c.attemptId)).toBe(who);
    expect((await getBuild(ctx.store.db, ids[4]!))?.state).toBe('queued');
    expect((await getBuild(ctx.store.db, ids[2]!))?.state).toBe('allocated');
    // Taken builds are left out of a later batch; the untouched one is still claimable.
    const again = await claimBuildsForAgents(ctx.store.db, [{ agentId: b, buildIds: [ids[0]!, ids[4]!] }], { leaseMs: 1000 });
    expect(again.map((l) => l.map((c) => c.buildId))).toEqual([[ids[4]]]);
  });

  it('never gives one build to two racing batches', async () => {
    const { ids } = await builds(120);
    const agents = await Promise.all([0, 1, 2, 3].map((i) => agent(`racer${i}`)));
    const batches = Array.from({ length: 12 }, (_, k) =>
      claimBuildsForAgents(ctx.store.db, agents.map((who, j) => ({ agentId: who, buildIds: [0, 1, 2].map((m) => ids[(k * 7 + j * 13 + m * 29) % ids.length]!) })), { leaseMs: 60_000 }));
    const claimed = (await Promise.all(batches)).flat(2).map((c) => c.buildId);
    expect(claimed.length).toBeGreaterThan(0);
    expect(new Set(claimed).size).toBe(claimed.length);
    const open = await listOpenAttempts(ctx.store.db);
    expect(open.filter((o) => ids.includes(o.buildId)).length).toBe(claimed.length);
  });
});
