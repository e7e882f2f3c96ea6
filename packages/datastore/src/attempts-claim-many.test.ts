// Batched claims (group commit of concurrent fetch-builds) on both dialects,
// through the handle and through the claim runner (SQLite's worker thread,
// PostgreSQL's prepared statement): each request gets its
// own builds with its agent's attempts, a build named twice goes to the first
// request, and racing batches never share a build.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAgent } from './agents.js';
import { claimBuildsForAgents, MAX_CLAIM_BATCH } from './attempts-claim-many.js';
import { listOpenAttempts } from './attempts-query.js';
import { createBuilds } from './builds-create.js';
import { getBuild } from './builds-show.js';
import { recordDerivations } from './derivations.js';
import { fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { openDatastore } from './datastore.js';
import { startSqliteClaimWorker, terminateClaimWorkerThread } from './sqlite-claim-worker.js';
import { useDatastore } from './testing/use-datastore.js';
import type { Dialect } from './uri.js';

// 'handle': through the Kysely handle; 'runner': through the datastore's
// claim runner (SQLite's worker thread, PostgreSQL's prepared statement).
const CASES = DIALECTS.flatMap((dialect) =>
  (['handle', 'runner'] as const).map((via): [Dialect, 'handle' | 'runner'] => [dialect, via]),
);

describe.each(CASES)('batched claims on %s (%s)', (dialect, via) => {
  const ctx = useDatastore(dialect);
  const claim = (
    requests: Parameters<typeof claimBuildsForAgents>[1],
    options: { leaseMs: number; now?: number },
  ) => {
    const runner = via === 'runner' ? ctx.store.claimRunner() : undefined;
    if (via === 'runner') expect(runner).toBeDefined();
    return claimBuildsForAgents(ctx.store.db, requests, { ...options, runner });
  };
  const agent = async (name: string) =>
    (await createAgent(ctx.store.db, { name: `${name}-${Math.random()}`, systems: ['x86_64-linux'] })).id;
  const builds = async (n: number, options: { timeout?: number; maxSilentTime?: number } = {}) => {
    const drvs = Array.from({ length: n }, (_, i) => fakeDerivation(`many-${i}`));
    await recordDerivations(ctx.store.db, drvs);
    const made = await createBuilds(
      ctx.store.db,
      drvs.map((d) => ({ derivationPath: d.path, ...options })),
    );
    return { ids: made.map((m) => m.id), paths: drvs.map((d) => d.path) };
  };

  it('gives each request its builds, with its agent, the derivation and the time limits', async () => {
    const { ids, paths } = await builds(5, { timeout: 600, maxSilentTime: 60 });
    const [a, b] = [await agent('a'), await agent('b')];
    const got = await claim(
      [
        { agentId: a, buildIds: [ids[0]!, ids[1]!] },
        { agentId: b, buildIds: [ids[2]!, ids[1]!] },
        { agentId: a, buildIds: [ids[3]!] },
        { agentId: b, buildIds: [] },
      ],
      { leaseMs: 1000, now: 50 },
    );
    expect(got.map((l) => l.map((c) => c.buildId).sort())).toEqual([
      [ids[0], ids[1]].sort(),
      [ids[2]],
      [ids[3]],
      [],
    ]);
    const first = got[0]!.find((c) => c.buildId === ids[0])!;
    expect(first).toMatchObject({
      derivationPath: paths[0],
      leaseExpiresAt: 1050,
      timeoutS: 600,
      maxSilentTimeS: 60,
    });
    const open = await listOpenAttempts(ctx.store.db);
    const agentOfAttempt = new Map(open.map((o) => [o.id, o.agentId]));
    for (const [i, who] of [
      [0, a],
      [1, b],
      [2, a],
    ] as const)
      for (const c of got[i]!) expect(agentOfAttempt.get(c.attemptId)).toBe(who);
    expect((await getBuild(ctx.store.db, ids[4]!))?.state).toBe('queued');
    expect((await getBuild(ctx.store.db, ids[2]!))?.state).toBe('allocated');
    // Taken builds are left out of a later batch; the untouched one is still claimable.
    const again = await claim([{ agentId: b, buildIds: [ids[0]!, ids[4]!] }], { leaseMs: 1000 });
    expect(again.map((l) => l.map((c) => c.buildId))).toEqual([[ids[4]]]);
  });

  it('claims a whole batch of the largest size at once, within the bound-parameter limits', async () => {
    const { ids } = await builds(MAX_CLAIM_BATCH + 1);
    const who = await agent('bulk');
    const got = await claim([{ agentId: who, buildIds: ids }], { leaseMs: 60_000 });
    expect(got[0]!.length).toBe(MAX_CLAIM_BATCH);
    // Past the limit a build is left queued, for the next batch.
    expect((await getBuild(ctx.store.db, ids[MAX_CLAIM_BATCH]!))?.state).toBe('queued');
  }, 120_000);

  it('never gives one build to two racing batches', async () => {
    const { ids } = await builds(120);
    const agents = await Promise.all([0, 1, 2, 3].map((i) => agent(`racer${i}`)));
    const batches = Array.from({ length: 12 }, (_, k) =>
      claim(
        agents.map((who, j) => ({
          agentId: who,
          buildIds: [0, 1, 2].map((m) => ids[(k * 7 + j * 13 + m * 29) % ids.length]!),
        })),
        { leaseMs: 60_000 },
      ),
    );
    const claimed = (await Promise.all(batches)).flat(2).map((c) => c.buildId);
    expect(claimed.length).toBeGreaterThan(0);
    expect(new Set(claimed).size).toBe(claimed.length);
    const open = await listOpenAttempts(ctx.store.db);
    expect(open.filter((o) => ids.includes(o.buildId)).length).toBe(claimed.length);
  });
});

describe('the claim worker', () => {
  const ctx = useDatastore('sqlite');

  it('answers a failed claim with a typed error and keeps serving', async () => {
    const worker = ctx.store.claimRunner()!;
    // An agent that does not exist: the attempt's foreign key refuses it, the transaction rolls back.
    const drv = fakeDerivation('worker-fk');
    await recordDerivations(ctx.store.db, [drv]);
    const [made] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    await expect(
      claimBuildsForAgents(ctx.store.db, [{ agentId: 'no-such-agent', buildIds: [made!.id] }], {
        leaseMs: 1000,
        runner: worker,
      }),
    ).rejects.toMatchObject({ code: 'claim-failed', message: expect.stringMatching(/FOREIGN KEY/i) });
    expect((await getBuild(ctx.store.db, made!.id))?.state).toBe('queued');
    const who = (await createAgent(ctx.store.db, { name: `w-${Math.random()}`, systems: ['x86_64-linux'] }))
      .id;
    const got = await claimBuildsForAgents(ctx.store.db, [{ agentId: who, buildIds: [made!.id] }], {
      leaseMs: 1000,
      runner: worker,
    });
    expect(got[0]!.map((c) => c.buildId)).toEqual([made!.id]);
    expect(worker.failed).toBe(false);
  });

  it('when its thread dies, claims go on in the calling thread', async () => {
    const { file } = ctx.database as { file: string };
    const worker = startSqliteClaimWorker(file);
    const drv = fakeDerivation('worker-dies');
    await recordDerivations(ctx.store.db, [drv]);
    const [made] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    const who = (await createAgent(ctx.store.db, { name: `d-${Math.random()}`, systems: ['x86_64-linux'] }))
      .id;
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve));
    await terminateClaimWorkerThread(worker);
    expect((await warned).message).toMatch(/claim worker has stopped; claims of .* run on the main thread/);
    expect(worker.failed).toBe(true);
    const got = await claimBuildsForAgents(ctx.store.db, [{ agentId: who, buildIds: [made!.id] }], {
      leaseMs: 1000,
      runner: worker,
    });
    expect(got[0]!.map((c) => c.buildId)).toEqual([made!.id]);
  });

  it('is started only for a database file, and once', async () => {
    expect(ctx.store.claimRunner()).toBe(ctx.store.claimRunner());
    const memory = await openDatastore('sqlite::memory:');
    expect(memory.claimRunner()).toBeUndefined();
    await memory.close();
  });
});

describe.skipIf(!DIALECTS.includes('postgres'))('the claim runner on postgres', () => {
  const ctx = useDatastore('postgres');

  it('is a statement each session prepares once, that fails alone and serves on', async () => {
    // One session: what it has prepared is then what this datastore's claims used.
    const store = await openDatastore(ctx.database.uri, { migrate: false, poolSize: 1 });
    try {
      const runner = store.claimRunner()!;
      expect(store.claimRunner()).toBe(runner);
      const drvs = [fakeDerivation('pg-runner-1'), fakeDerivation('pg-runner-2')];
      await recordDerivations(store.db, drvs);
      const made = await createBuilds(
        store.db,
        drvs.map((d) => ({ derivationPath: d.path })),
      );
      const prepared = async () =>
        (await sql<{ name: string }>`select name from pg_prepared_statements`.execute(store.db)).rows.map(
          (r) => r.name,
        );
      expect(await prepared()).toEqual([]);
      // An agent that does not exist: the foreign key refuses the attempt, and the build stays queued.
      await expect(
        claimBuildsForAgents(store.db, [{ agentId: 'no-such-agent', buildIds: [made[0]!.id] }], {
          leaseMs: 1000,
          runner,
        }),
      ).rejects.toThrow(/foreign key/i);
      expect((await getBuild(store.db, made[0]!.id))?.state).toBe('queued');
      const who = (await createAgent(store.db, { name: `pg-${Math.random()}`, systems: ['x86_64-linux'] }))
        .id;
      for (const m of made) {
        const got = await claimBuildsForAgents(store.db, [{ agentId: who, buildIds: [m.id] }], {
          leaseMs: 1000,
          runner,
        });
        expect(got[0]!.map((c) => c.buildId)).toEqual([m.id]);
      }
      expect(await prepared()).toEqual(['gbc_claim_builds_1']);
      expect(runner.failed).toBe(false);
    } finally {
      await store.close();
    }
  });
});
