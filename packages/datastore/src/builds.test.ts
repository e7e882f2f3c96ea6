// Derivations and builds on both dialects: recording, creating with the
// "ignore if exists" options, listing with filters and pages, show, cancel.
import { describe, expect, it } from 'vitest';
import { createBuilds } from './builds-create.js';
import type { CreatedBuild } from './builds-create.js';
import { listBuilds } from './builds-list.js';
import type { BuildFilter } from './builds-list.js';
import { getBuild, showBuild } from './builds-show.js';
import { cancelBuild, cancelBuildsByTag, updateBuildPriority } from './builds-update.js';
import { findMissingDerivations, getDerivation, recordDerivations } from './derivations.js';
import { InvalidInputError, NotFoundError, StateConflictError } from './errors.js';
import { fakeChain, fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('builds on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it('records derivations idempotently, with bytes, outputs, inputs and sources intact', async () => {
    const base = fakeDerivation('base');
    const top = {
      ...fakeDerivation('top', { inputs: [base], outputs: ['out', 'dev'] }),
      inputSources: ['/gnu/store/00000000000000000000000000000000-src'],
      text: Uint8Array.from([0x44, 0xe9, 0xff, 0x00, 0x0a]),
    };
    expect(await recordDerivations(ctx.store.db, [top, base])).toEqual([top.path, base.path]);
    expect(await recordDerivations(ctx.store.db, [top, base, top])).toEqual([]);
    const back = await getDerivation(ctx.store.db, top.path);
    expect(back).toEqual({ ...top, outputs: [...top.outputs].sort((a, b) => a.name.localeCompare(b.name)) });
    expect(await findMissingDerivations(ctx.store.db, [base.path, '/gnu/store/x-missing.drv'])).toEqual([
      '/gnu/store/x-missing.drv',
    ]);
    expect(await getDerivation(ctx.store.db, '/gnu/store/x-missing.drv')).toBeUndefined();
  });

  it('records thousands of derivations across statement chunks', async () => {
    const chain = fakeChain(12_000, 'bulk');
    expect((await recordDerivations(ctx.store.db, chain)).length).toBe(12_000);
    expect(
      await findMissingDerivations(
        ctx.store.db,
        chain.map((d) => d.path),
      ),
    ).toEqual([]);
    const created = await createBuilds(
      ctx.store.db,
      chain.map((d) => ({ derivationPath: d.path, tags: [{ key: 'bulk', value: 'yes' }] })),
    );
    expect(new Set(created.map((c) => c.id)).size).toBe(12_000);
    const page = await listBuilds(ctx.store.db, { tags: [{ key: 'bulk', value: 'yes' }], limit: 1000 });
    expect(page.builds.length).toBe(1000);
  });

  it('creates builds for derivations recorded in the same transaction, and forgets those of one rolled back', async () => {
    const [a, b] = [fakeDerivation('same-trx-a'), fakeDerivation('same-trx-b')];
    await recordDerivations(ctx.store.db, [a]);
    const created = await ctx.store.transaction(async (trx) => {
      await recordDerivations(trx, [b]);
      return createBuilds(trx, [{ derivationPath: b.path }, { derivationPath: a.path }]);
    });
    expect((await getBuild(ctx.store.db, created[0]!.id))?.derivationPath).toBe(b.path);
    expect((await getBuild(ctx.store.db, created[1]!.id))?.derivationPath).toBe(a.path);
    const gone = fakeDerivation('same-trx-rolled-back');
    await expect(
      ctx.store.transaction(async (trx) => {
        await recordDerivations(trx, [gone]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(
      ctx.store.transaction((trx) => createBuilds(trx, [{ derivationPath: gone.path }])),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates builds with tags and options, and refuses unknown derivations', async () => {
    const drv = fakeDerivation('hello');
    await recordDerivations(ctx.store.db, [drv]);
    const [made] = await createBuilds(
      ctx.store.db,
      [
        {
          derivationPath: drv.path,
          priority: 5,
          tags: [
            { key: 'project', value: 'guix' },
            { key: 'project', value: 'guix' },
            { key: 'branch', value: 'master' },
          ],
          deferUntil: 1000,
          timeout: 3600,
          maxSilentTime: 600,
        },
      ],
      42,
    );
    const build = await getBuild(ctx.store.db, made!.id);
    expect(build).toMatchObject({
      derivationPath: drv.path,
      system: 'x86_64-linux',
      priority: 5,
      createdAt: 42,
      deferUntil: 1000,
      state: 'queued',
      timeout: 3600,
      maxSilentTime: 600,
      blockedBy: null,
    });
    expect(build?.tags).toEqual([
      { key: 'branch', value: 'master' },
      { key: 'project', value: 'guix' },
    ]);
    const error = await createBuilds(ctx.store.db, [{ derivationPath: '/gnu/store/nope.drv' }]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it('returns the existing build when asked to ignore duplicates by derivation or by outputs', async () => {
    const drv = fakeDerivation('dup');
    const twin = { ...fakeDerivation('dup-twin'), outputs: drv.outputs };
    await recordDerivations(ctx.store.db, [drv, twin]);
    const [first] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    const again = await createBuilds(ctx.store.db, [
      { derivationPath: drv.path, ignoreIfBuildForDerivationExists: true },
      { derivationPath: twin.path, ignoreIfBuildForDerivationExists: true },
      { derivationPath: twin.path, ignoreIfBuildForOutputsExists: true },
      { derivationPath: drv.path },
    ]);
    expect(again[0]).toEqual({ id: first!.id, derivationPath: drv.path, created: false });
    expect(again[1]?.created).toBe(true);
    expect(again[2]).toMatchObject({ created: false });
    expect(again[3]?.created).toBe(true);
    await cancelBuild(ctx.store.db, first!.id);
    const fresh = await createBuilds(ctx.store.db, [
      { derivationPath: drv.path, ignoreIfBuildForDerivationExists: true },
    ]);
    expect(fresh[0]?.id).toBe(again[3]?.id);
  });

  it('lists with every filter and pages through a stable keyset cursor', async () => {
    const drvs = [fakeDerivation('l-a'), fakeDerivation('l-b', { system: 'aarch64-linux' })];
    await recordDerivations(ctx.store.db, drvs);
    const requests = Array.from({ length: 25 }, (_, i) => ({
      derivationPath: drvs[i % 2]!.path,
      priority: i,
      tags: [
        { key: 'suite', value: 'list' },
        { key: 'parity', value: i % 2 === 0 ? 'even' : 'odd' },
        ...(i % 5 === 0 ? [{ key: 'skip', value: 'me' }] : []),
      ],
    }));
    const made: CreatedBuild[] = [];
    for (const [i, r] of requests.entries())
      made.push(...(await createBuilds(ctx.store.db, [r], 10_000 + i)));
    const all = async (filter: BuildFilter): Promise<string[]> => {
      const ids: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await listBuilds(ctx.store.db, { ...filter, limit: 4, after });
        ids.push(...page.builds.map((b) => b.id));
        if (page.nextCursor === null) return ids;
        after = page.nextCursor;
      }
    };
    const expected = (pred: (i: number) => boolean) =>
      made
        .map((m, i) => [m.id, i] as const)
        .filter(([, i]) => pred(i))
        .map(([id]) => id)
        .reverse();
    expect(await all({ tags: [{ key: 'suite', value: 'list' }] })).toEqual(expected(() => true));
    expect(await all({ tags: [{ key: 'suite' }, { key: 'parity', value: 'even' }] })).toEqual(
      expected((i) => i % 2 === 0),
    );
    expect(await all({ tags: [{ key: 'suite', value: 'list' }], notTags: [{ key: 'skip' }] })).toEqual(
      expected((i) => i % 5 !== 0),
    );
    expect(await all({ tags: [{ key: 'suite', value: 'list' }], systems: ['aarch64-linux'] })).toEqual(
      expected((i) => i % 2 === 1),
    );
    expect(await all({ tags: [{ key: 'suite', value: 'list' }], priorityMin: 10, priorityMax: 12 })).toEqual(
      expected((i) => i >= 10 && i <= 12),
    );
    expect(await all({ tags: [{ key: 'suite', value: 'list' }], createdAfter: 10_020 })).toEqual(
      expected((i) => i > 20),
    );
    expect(
      await all({ tags: [{ key: 'suite', value: 'list' }], createdAfter: 10_002, createdBefore: 10_007 }),
    ).toEqual(expected((i) => i > 2 && i < 7));
    await cancelBuild(ctx.store.db, made[3]!.id);
    expect(await all({ tags: [{ key: 'suite', value: 'list' }], states: ['canceled'] })).toEqual([
      made[3]!.id,
    ]);
    // A page cursor stays valid when newer builds arrive in between.
    const first = await listBuilds(ctx.store.db, { tags: [{ key: 'suite', value: 'list' }], limit: 10 });
    await createBuilds(ctx.store.db, [
      { derivationPath: drvs[0]!.path, tags: [{ key: 'suite', value: 'list' }] },
    ]);
    const second = await listBuilds(ctx.store.db, {
      tags: [{ key: 'suite', value: 'list' }],
      limit: 10,
      after: first.nextCursor,
    });
    expect(second.builds[0]?.id).toBe(made[14]!.id);
    await expect(listBuilds(ctx.store.db, { after: 'garbage' })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(listBuilds(ctx.store.db, { limit: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('cancels one build or every build with a tag, once, and updates priorities', async () => {
    const drv = fakeDerivation('cancel');
    await recordDerivations(ctx.store.db, [drv]);
    const made = await createBuilds(
      ctx.store.db,
      [0, 1, 2].map(() => ({ derivationPath: drv.path, tags: [{ key: 'batch', value: 'c1' }] })),
    );
    const one = await cancelBuild(ctx.store.db, made[0]!.id, 77);
    expect(one).toEqual({ id: made[0]!.id, previousState: 'queued', runningAttempt: null });
    expect(await getBuild(ctx.store.db, made[0]!.id)).toMatchObject({ state: 'canceled', endedAt: 77 });
    await expect(cancelBuild(ctx.store.db, made[0]!.id)).rejects.toBeInstanceOf(StateConflictError);
    await expect(cancelBuild(ctx.store.db, '00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    const byTag = await cancelBuildsByTag(ctx.store.db, { key: 'batch', value: 'c1' });
    expect(byTag.map((c) => c.id).sort()).toEqual([made[1]!.id, made[2]!.id].sort());
    expect(await cancelBuildsByTag(ctx.store.db, { key: 'batch', value: 'c1' })).toEqual([]);
    const [p] = await createBuilds(ctx.store.db, [{ derivationPath: drv.path }]);
    await updateBuildPriority(ctx.store.db, p!.id, 99);
    expect((await showBuild(ctx.store.db, p!.id))?.priority).toBe(99);
    await expect(
      updateBuildPriority(ctx.store.db, '00000000-0000-0000-0000-000000000000', 1),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});
