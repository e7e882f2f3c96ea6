// An agent's finished attempts (listEndedAttempts, for `GET /agent/{uuid}` and
// the dashboard's agent page) on both dialects: only that agent's, only ended
// ones, newest first, bounded by the limit, through the attempts_ended_agent index.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAgent } from './agents.js';
import { claimBuildsById } from './attempts-claim.js';
import { finishAttempt } from './attempts-lifecycle.js';
import { listEndedAttempts } from './attempts-query.js';
import { createBuilds } from './builds-create.js';
import { recordDerivations } from './derivations.js';
import { fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('ended attempts of an agent on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it("lists only the agent's finished attempts, newest first, at most `limit`", async () => {
    const db = ctx.store.db;
    const drvs = Array.from({ length: 5 }, (_, i) => fakeDerivation(`ended-${i}`));
    await recordDerivations(db, drvs);
    const builds = (
      await createBuilds(
        db,
        drvs.map((d) => ({ derivationPath: d.path })),
      )
    ).map((b) => b.id);
    const [a, b] = [
      (await createAgent(db, { name: 'ended-a', systems: ['x86_64-linux'] })).id,
      (await createAgent(db, { name: 'ended-b', systems: ['x86_64-linux'] })).id,
    ];
    const claim = async (agentId: string, build: string) =>
      (await claimBuildsById(db, [build], { agentId, leaseMs: 60_000, now: 1000 }))[0]!.attemptId;
    // a: builds 0, 1, 2 finished (2 succeeded), 3 still open; b: build 4 finished.
    for (const [i, agent] of [
      [0, a],
      [1, a],
      [2, a],
      [4, b],
    ] as const) {
      const result = i === 2 ? { result: 'success' as const } : { result: 'build-failure' as const };
      await finishAttempt(db, await claim(agent, builds[i]!), agent, result, 2000 + i);
    }
    await claim(a, builds[3]!);

    const listed = await listEndedAttempts(db, a, 20);
    expect(listed.map((x) => x.buildId)).toEqual([builds[2], builds[1], builds[0]]);
    expect(listed[0]).toMatchObject({
      agentId: a,
      result: 'success',
      endedAt: 2002,
      derivationPath: drvs[2]!.path,
      system: 'x86_64-linux',
    });
    expect((await listEndedAttempts(db, a, 2)).map((x) => x.buildId)).toEqual([builds[2], builds[1]]);
    expect((await listEndedAttempts(db, b, 20)).map((x) => x.buildId)).toEqual([builds[4]]);
    for (const bad of [0, 1001, 1.5]) await expect(listEndedAttempts(db, a, bad)).rejects.toThrow(/limit/);
  });

  it('has the index it walks', async () => {
    const names =
      dialect === 'sqlite'
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(
            ctx.store.db,
          )
        : await sql<{ name: string }>`select indexname as name from pg_indexes`.execute(ctx.store.db);
    expect(names.rows.map((r) => r.name)).toContain('attempts_ended_agent');
  });
});
