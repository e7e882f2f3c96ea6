// Attempts on both dialects: claims, start, finish with outputs and events in
// one transaction, blocking of dependents, setup failures, lease expiry.
import { describe, expect, it } from 'vitest';
import { createAgent } from './agents.js';
import { listOpenAttempts } from './attempts-query.js';
import { claimBuildsById, claimNextBuilds } from './attempts-claim.js';
import {
  expireLeases,
  finishAttempt,
  reconcileAttempts,
  releaseUnstartedAttempts,
  retryDelayMs,
  startAttempt,
} from './attempts-lifecycle.js';
import { failedDependencyOf } from './blocking.js';
import { createBuilds } from './builds-create.js';
import { getBuild, showBuild } from './builds-show.js';
import { cancelBuild } from './builds-update.js';
import { recordDerivations } from './derivations.js';
import { NotFoundError, StateConflictError } from './errors.js';
import { claimEvents } from './outbox.js';
import { getOutputMetadata, getOutputMetadataByHashPart, hashPartOf } from './outputs.js';
import { fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('attempts on %s', (dialect) => {
  const ctx = useDatastore(dialect);
  const agent = async (name: string) =>
    (await createAgent(ctx.store.db, { name: `${name}-${Math.random()}`, systems: ['x86_64-linux'] })).id;

  it('claims given builds once and refuses builds already taken', async () => {
    const drv = fakeDerivation('claim');
    await recordDerivations(ctx.store.db, [drv]);
    const made = await createBuilds(ctx.store.db, [
      { derivationPath: drv.path },
      { derivationPath: drv.path },
    ]);
    const [a, b] = [await agent('a'), await agent('b')];
    const first = await claimBuildsById(ctx.store.db, [made[0]!.id], { agentId: a, leaseMs: 1000, now: 100 });
    expect(first).toEqual([
      {
        buildId: made[0]!.id,
        attemptId: expect.any(Number),
        attemptUuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/),
        derivationPath: drv.path,
        leaseExpiresAt: 1100,
        timeoutS: null,
        maxSilentTimeS: null,
      },
    ]);
    const second = await claimBuildsById(ctx.store.db, [made[0]!.id, made[1]!.id], {
      agentId: b,
      leaseMs: 1000,
      now: 100,
    });
    expect(second.map((c) => c.buildId)).toEqual([made[1]!.id]);
    expect((await getBuild(ctx.store.db, made[0]!.id))?.state).toBe('allocated');
  });

  it('claims by priority then age, skipping deferred, blocked and other systems', async () => {
    const x = fakeDerivation('order');
    const arm = fakeDerivation('order-arm', { system: 'aarch64-linux' });
    await recordDerivations(ctx.store.db, [x, arm]);
    const a = await agent('order');
    // Drain what earlier tests left queued.
    await claimNextBuilds(ctx.store.db, {
      agentId: a,
      systems: ['x86_64-linux'],
      count: 1000,
      leaseMs: 1000,
    });
    const low = await createBuilds(ctx.store.db, [{ derivationPath: x.path, priority: 1 }], 1);
    const highOld = await createBuilds(ctx.store.db, [{ derivationPath: x.path, priority: 9 }], 2);
    const highNew = await createBuilds(ctx.store.db, [{ derivationPath: x.path, priority: 9 }], 3);
    await createBuilds(ctx.store.db, [{ derivationPath: x.path, priority: 50, deferUntil: 10_000 }], 4);
    await createBuilds(ctx.store.db, [{ derivationPath: arm.path, priority: 100 }], 5);
    const got = await claimNextBuilds(ctx.store.db, {
      agentId: a,
      systems: ['x86_64-linux'],
      count: 3,
      leaseMs: 1000,
      now: 5000,
    });
    expect(got.map((c) => c.buildId)).toEqual([highOld[0]!.id, highNew[0]!.id, low[0]!.id]);
    expect(
      await claimNextBuilds(ctx.store.db, {
        agentId: a,
        systems: ['x86_64-linux'],
        count: 3,
        leaseMs: 1000,
        now: 5000,
      }),
    ).toEqual([]);
    expect(
      (
        await claimNextBuilds(ctx.store.db, {
          agentId: a,
          systems: ['x86_64-linux'],
          count: 3,
          leaseMs: 1000,
          now: 10_000,
        })
      ).length,
    ).toBe(1);
  });

  it('finishes with success: outputs, state, events and unblocking in one transaction', async () => {
    const dep = fakeDerivation('dep');
    const mid = fakeDerivation('mid', { inputs: [dep] });
    const top = fakeDerivation('top', { inputs: [mid] });
    await recordDerivations(ctx.store.db, [dep, mid, top]);
    const [depBuild, , topBuild] = await createBuilds(
      ctx.store.db,
      [dep, mid, top].map((d) => ({ derivationPath: d.path })),
    );
    const a = await agent('fin');
    const failing = await claimBuildsById(ctx.store.db, [depBuild!.id], { agentId: a, leaseMs: 60_000 });
    await startAttempt(ctx.store.db, failing[0]!.attemptId, a, 60_000);
    expect((await getBuild(ctx.store.db, depBuild!.id))?.state).toBe('started');
    const failed = await finishAttempt(ctx.store.db, failing[0]!.attemptId, a, {
      result: 'build-failure',
      failureReason: 'exit 1',
      logLocation: 'logs/1',
    });
    expect(failed.buildState).toBe('failed');
    expect(failed.blocked.length).toBe(2);
    expect((await getBuild(ctx.store.db, topBuild!.id))?.blockedBy).toBe(dep.path);
    expect(await failedDependencyOf(ctx.store.db, top.path)).toBe(dep.path);

    const [retry] = await createBuilds(ctx.store.db, [{ derivationPath: dep.path }]);
    const claim = await claimBuildsById(ctx.store.db, [retry!.id], { agentId: a, leaseMs: 60_000 });
    const out = dep.outputs[0]!.path;
    const done = await finishAttempt(
      ctx.store.db,
      claim[0]!.attemptId,
      a,
      {
        result: 'success',
        outputs: [
          {
            storePath: out,
            narHash: 'sha256:abc',
            narSize: 1234,
            references: [out],
            deriver: dep.path,
            files: [
              { compression: 'zstd', fileSize: 500, fileHash: null, location: 'nar/zstd/x' },
              { compression: 'none', fileSize: 1234, fileHash: null, location: null },
            ],
          },
        ],
        events: [{ eventType: 'build-success', payload: { build: retry!.id } }],
      },
      999,
    );
    expect(done).toMatchObject({
      buildState: 'succeeded',
      unblocked: expect.arrayContaining([topBuild!.id]),
    });
    expect((await getBuild(ctx.store.db, topBuild!.id))?.blockedBy).toBeNull();
    expect(await failedDependencyOf(ctx.store.db, top.path)).toBeNull();
    const meta = await getOutputMetadata(ctx.store.db, out);
    expect(meta).toMatchObject({
      narHash: 'sha256:abc',
      narSize: 1234,
      references: [out],
      deriver: dep.path,
      buildId: retry!.id,
      createdAt: 999,
    });
    expect(meta?.files.map((f) => f.compression)).toEqual(['none', 'zstd']);
    expect(await getOutputMetadataByHashPart(ctx.store.db, hashPartOf(out))).toEqual(meta);
    const shown = await showBuild(ctx.store.db, retry!.id);
    expect(shown?.attempts).toEqual([
      expect.objectContaining({ result: 'success', agentId: a, endedAt: 999 }),
    ]);
    expect(shown?.outputMetadata).toEqual([meta]);
    const events = await claimEvents(ctx.store.db, {
      owner: 't',
      leaseMs: 1000,
      limit: 10,
      eventTypes: ['build-success'],
    });
    expect(events.map((e) => e.payload)).toContainEqual({ build: retry!.id });
    await expect(
      finishAttempt(ctx.store.db, claim[0]!.attemptId, a, { result: 'success' }),
    ).rejects.toBeInstanceOf(StateConflictError);
  });

  it('rolls the whole finish back when one part fails', async () => {
    const drv = fakeDerivation('rollback');
    await recordDerivations(ctx.store.db, [drv]);
    const [b] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    const a = await agent('rb');
    const [c] = await claimBuildsById(ctx.store.db, [b!.id], { agentId: a, leaseMs: 60_000 });
    const bad = finishAttempt(ctx.store.db, c!.attemptId, a, {
      result: 'success',
      outputs: [{ storePath: 'not-a-store-path', narHash: 'x', narSize: 1, references: [], files: [] }],
    });
    await expect(bad).rejects.toThrow(/not a store path/);
    expect((await getBuild(ctx.store.db, b!.id))?.state).toBe('allocated');
    expect((await listOpenAttempts(ctx.store.db, a)).map((x) => x.id)).toEqual([c!.attemptId]);
  });

  it('requeues at once after a first setup or infrastructure failure, then defers the build, doubling', async () => {
    const drv = fakeDerivation('backoff');
    await recordDerivations(ctx.store.db, [drv]);
    const [b] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path, deferUntil: 1_000 }]);
    const a = await agent('backoff');
    const fail = async (now: number, result: 'setup-failure' | 'infrastructure-failure') => {
      const [c] = await claimBuildsById(ctx.store.db, [b!.id], { agentId: a, leaseMs: 60_000, now });
      await finishAttempt(
        ctx.store.db,
        c!.attemptId,
        a,
        { result, failureReason: 'no', missingInputs: [] },
        now,
      );
      return (await getBuild(ctx.store.db, b!.id))!;
    };
    expect(await fail(10_000, 'infrastructure-failure')).toMatchObject({
      state: 'queued',
      deferUntil: 1_000,
    });
    expect(await fail(20_000, 'setup-failure')).toMatchObject({ state: 'queued', deferUntil: 25_000 });
    expect(await fail(30_000, 'infrastructure-failure')).toMatchObject({
      state: 'queued',
      deferUntil: 40_000,
    });
    expect(retryDelayMs(40)).toBe(600_000);
  });

  it('records setup failures with missing inputs and requeues the build', async () => {
    const drv = fakeDerivation('setup');
    await recordDerivations(ctx.store.db, [drv]);
    const [b] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    const a = await agent('setup');
    const [c] = await claimBuildsById(ctx.store.db, [b!.id], { agentId: a, leaseMs: 60_000 });
    await expect(
      finishAttempt(ctx.store.db, c!.attemptId, 'someone-else', { result: 'setup-failure' }),
    ).rejects.toBeInstanceOf(NotFoundError);
    const r = await finishAttempt(
      ctx.store.db,
      c!.attemptId,
      a,
      { result: 'setup-failure', missingInputs: ['/gnu/store/b-y', '/gnu/store/a-x'] },
      5,
    );
    expect(r.buildState).toBe('queued');
    const shown = await showBuild(ctx.store.db, b!.id);
    expect(shown?.setupFailures).toEqual([
      {
        id: expect.any(Number),
        attemptId: c!.attemptId,
        buildId: b!.id,
        createdAt: 5,
        missingInputs: ['/gnu/store/a-x', '/gnu/store/b-y'],
      },
    ]);
    expect(shown?.state).toBe('queued');
  });

  it('expires leases as infrastructure failures, renews them on status, releases on deactivation', async () => {
    const drv = fakeDerivation('lease');
    await recordDerivations(ctx.store.db, [drv]);
    const made = await createBuilds(
      ctx.store.db,
      [0, 1, 2].map(() => ({ derivationPath: drv.path })),
    );
    const a = await agent('lease');
    const claims = await claimBuildsById(
      ctx.store.db,
      made.map((m) => m.id),
      { agentId: a, leaseMs: 100, now: 1000 },
    );
    await startAttempt(ctx.store.db, claims[0]!.attemptId, a, 100, 1000);
    expect(
      await reconcileAttempts(
        ctx.store.db,
        a,
        made.map((m) => m.id),
        { leaseMs: 100, lostBefore: 900, now: 1050 },
      ),
    ).toEqual({ renewed: 3, released: [] });
    const mine = (list: readonly { agentId: string }[]) => list.filter((e) => e.agentId === a);
    expect(mine(await expireLeases(ctx.store.db, 1100))).toEqual([]);
    const released = await releaseUnstartedAttempts(ctx.store.db, a, 1120);
    expect(released.sort()).toEqual([made[1]!.id, made[2]!.id].sort());
    const expired = mine(await expireLeases(ctx.store.db, 1200));
    expect(expired).toEqual([{ attemptId: claims[0]!.attemptId, agentId: a, buildId: made[0]!.id }]);
    const shown = await showBuild(ctx.store.db, made[0]!.id);
    expect(shown?.state).toBe('queued');
    expect(shown?.attempts[0]).toMatchObject({ result: 'infrastructure-failure', endedAt: 1200 });
    await expect(startAttempt(ctx.store.db, claims[0]!.attemptId, a, 100)).rejects.toBeInstanceOf(
      StateConflictError,
    );
  });

  it('reconciles a status report: renews only what is listed, releases what the agent lost before its previous report', async () => {
    const drv = fakeDerivation('reconcile');
    await recordDerivations(ctx.store.db, [drv]);
    const made = await createBuilds(
      ctx.store.db,
      [0, 1, 2, 3].map(() => ({ derivationPath: drv.path })),
    );
    const [a, other] = [await agent('rec'), await agent('rec-other')];
    // Three builds allocated at 1000 (one started), one at 2000; another agent's build is never touched.
    const early = await claimBuildsById(
      ctx.store.db,
      made.slice(0, 3).map((m) => m.id),
      { agentId: a, leaseMs: 10_000, now: 1000 },
    );
    await startAttempt(ctx.store.db, early[1]!.attemptId, a, 10_000, 1100);
    const late = await claimBuildsById(ctx.store.db, [made[3]!.id], {
      agentId: a,
      leaseMs: 10_000,
      now: 2000,
    });
    const made2 = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    await claimBuildsById(ctx.store.db, [made2[0]!.id], { agentId: other, leaseMs: 10_000, now: 1000 });

    // First report ever (no previous one): nothing is lost yet, whatever it lists.
    expect(
      await reconcileAttempts(ctx.store.db, a, [], { leaseMs: 10_000, lostBefore: null, now: 2500 }),
    ).toEqual({ renewed: 0, released: [] });
    // The agent holds build 0 only (it was restarted): builds 1 (started) and 2, allocated before
    // its previous report at 1500, are released; build 3, allocated after it, may still be on its way.
    const r = await reconcileAttempts(ctx.store.db, a, [made[0]!.id], {
      leaseMs: 10_000,
      lostBefore: 1500,
      now: 3000,
    });
    expect(r.renewed).toBe(1);
    expect(r.released.map((x) => x.buildId).sort()).toEqual([made[1]!.id, made[2]!.id].sort());
    expect(r.released.map((x) => x.attemptId).sort()).toEqual(
      [early[1]!.attemptId, early[2]!.attemptId].sort(),
    );
    for (const id of [made[1]!.id, made[2]!.id]) {
      const shown = await showBuild(ctx.store.db, id);
      expect(shown?.state).toBe('queued');
      expect(shown?.attempts[0]).toMatchObject({ result: 'infrastructure-failure', endedAt: 3000 });
    }
    expect((await showBuild(ctx.store.db, made[3]!.id))?.state).toBe('allocated');
    expect((await showBuild(ctx.store.db, made2[0]!.id))?.state).toBe('allocated');
    // Renewed lease holds past the old one; the unlisted late attempt keeps its own and expires with it.
    const expired = (await expireLeases(ctx.store.db, 12_500)).filter((e) => e.agentId === a);
    expect(expired.map((e) => e.attemptId)).toEqual([late[0]!.attemptId]);
    // A released attempt cannot be resumed: its late result is refused.
    await expect(
      finishAttempt(ctx.store.db, early[1]!.attemptId, a, { result: 'success' }),
    ).rejects.toBeInstanceOf(StateConflictError);
    // Reported again later, when it is not listed: the late build's attempt already ended; nothing more to release.
    expect(
      await reconcileAttempts(ctx.store.db, a, [made[0]!.id], {
        leaseMs: 10_000,
        lostBefore: 3000,
        now: 13_000,
      }),
    ).toEqual({ renewed: 1, released: [] });
  });

  it('keeps a canceled build canceled when its lost attempt is released', async () => {
    const drv = fakeDerivation('reconcile-cancel');
    await recordDerivations(ctx.store.db, [drv]);
    const made = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    const a = await agent('rec-cancel');
    const [claim] = await claimBuildsById(ctx.store.db, [made[0]!.id], {
      agentId: a,
      leaseMs: 10_000,
      now: 1000,
    });
    await startAttempt(ctx.store.db, claim!.attemptId, a, 10_000, 1000);
    await cancelBuild(ctx.store.db, made[0]!.id);
    const r = await reconcileAttempts(ctx.store.db, a, [], { leaseMs: 10_000, lostBefore: 2000, now: 3000 });
    expect(r.released.map((x) => x.buildId)).toEqual([made[0]!.id]);
    expect((await showBuild(ctx.store.db, made[0]!.id))?.state).toBe('canceled');
  });

  it('cancels a running build: unstarted attempts end, the started one is returned for the agent to abort', async () => {
    const drv = fakeDerivation('cancel-run');
    await recordDerivations(ctx.store.db, [drv]);
    const made = await createBuilds(ctx.store.db, [
      { derivationPath: drv.path },
      { derivationPath: drv.path },
    ]);
    const a = await agent('cr');
    const claims = await claimBuildsById(
      ctx.store.db,
      made.map((m) => m.id),
      { agentId: a, leaseMs: 60_000 },
    );
    await startAttempt(ctx.store.db, claims[0]!.attemptId, a, 60_000);
    const running = await cancelBuild(ctx.store.db, made[0]!.id);
    expect(running).toEqual({
      id: made[0]!.id,
      previousState: 'started',
      runningAttempt: { id: claims[0]!.attemptId, agentId: a },
    });
    const allocated = await cancelBuild(ctx.store.db, made[1]!.id);
    expect(allocated.runningAttempt).toBeNull();
    expect((await showBuild(ctx.store.db, made[1]!.id))?.attempts[0]?.result).toBe('canceled');
    const fin = await finishAttempt(ctx.store.db, claims[0]!.attemptId, a, { result: 'success' });
    expect(fin.buildState).toBe('canceled');
  });
});
