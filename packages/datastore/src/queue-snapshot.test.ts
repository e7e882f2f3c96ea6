// The scheduler's queue snapshot on both dialects: queued builds only, tags,
// and the inputs still waiting for outputs, read in chunks.
import { describe, expect, it } from 'vitest';
import { claimBuildsById } from './attempts-claim.js';
import { createAgent } from './agents.js';
import { createBuilds } from './builds-create.js';
import { recordDerivations } from './derivations.js';
import { recordOutputMetadata } from './outputs.js';
import { loadQueue, queueEntriesOf, selectQueueRows, streamQueue } from './queue-snapshot.js';
import { fakeDerivation } from './testing/fixtures.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('queue snapshot on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it('lists queued builds with tags and pending inputs, chunk by chunk', async () => {
    const built = fakeDerivation('built');
    const unbuilt = fakeDerivation('unbuilt');
    const top = fakeDerivation('top', { inputs: [built, unbuilt] });
    const unknownInput = {
      ...fakeDerivation('orphan-user'),
      inputDerivations: [{ path: '/gnu/store/zzzz-not-recorded.drv', outputs: ['out'] }],
    };
    await recordDerivations(ctx.store.db, [built, unbuilt, top, unknownInput]);
    await recordOutputMetadata(ctx.store.db, [
      { storePath: built.outputs[0]!.path, narHash: 'sha256:x', narSize: 1, references: [], files: [] },
    ]);
    const made = await createBuilds(
      ctx.store.db,
      [
        { derivationPath: top.path, priority: 3, tags: [{ key: 'k', value: 'v' }], deferUntil: 50 },
        { derivationPath: unknownInput.path },
        { derivationPath: built.path },
        ...Array.from({ length: 7 }, () => ({ derivationPath: unbuilt.path })),
      ],
      10,
    );
    const agent = await createAgent(ctx.store.db, { name: 'q' });
    await claimBuildsById(ctx.store.db, [made[2]!.id], { agentId: agent.id, leaseMs: 1000 });
    const chunks: number[] = [];
    for await (const part of streamQueue(ctx.store.db, { chunkSize: 3 })) chunks.push(part.length);
    expect(chunks).toEqual([3, 3, 3]);
    const queue = await loadQueue(ctx.store.db);
    expect(queue.map((q) => q.id)).toEqual(made.filter((_, i) => i !== 2).map((m) => m.id));
    expect(queue[0]).toEqual({
      id: made[0]!.id,
      derivationPath: top.path,
      system: 'x86_64-linux',
      priority: 3,
      createdAt: 10,
      deferUntil: 50,
      blockedBy: null,
      tags: [{ key: 'k', value: 'v' }],
      pendingInputs: [unbuilt.path],
    });
    expect(queue[1]?.pendingInputs).toEqual(['/gnu/store/zzzz-not-recorded.drv']);
    expect(queue[2]?.pendingInputs).toEqual([]);
    expect(await loadQueue(ctx.store.db, { systems: ['aarch64-linux'] })).toEqual([]);
  });

  it("reads a dense chunk's tags and inputs by id range and a sparse one by list, never mixing in other builds'", async () => {
    const input = fakeDerivation('range-input');
    const drvs = Array.from({ length: 10 }, (_, i) => fakeDerivation(`range-${i}`, { inputs: [input] }));
    await recordDerivations(ctx.store.db, [input, ...drvs]);
    const made = await createBuilds(
      ctx.store.db,
      drvs.map((d, i) => ({ derivationPath: d.path, tags: [{ key: 'n', value: String(i) }] })),
    );
    const agent = await createAgent(ctx.store.db, { name: 'range' });
    const entries = async () =>
      (await loadQueue(ctx.store.db)).filter((e) => made.some((m) => m.id === e.id));
    // Dense: one build taken out of the middle of the range.
    await claimBuildsById(ctx.store.db, [made[4]!.id], { agentId: agent.id, leaseMs: 1000 });
    const dense = await entries();
    expect(dense.map((e) => e.tags[0]!.value)).toEqual(['0', '1', '2', '3', '5', '6', '7', '8', '9']);
    expect(dense.every((e) => e.pendingInputs.length === 1 && e.pendingInputs[0] === input.path)).toBe(true);
    // Sparse: only the first and the last are left.
    await claimBuildsById(
      ctx.store.db,
      made
        .slice(1, 9)
        .filter((_, i) => i !== 3)
        .map((m) => m.id),
      { agentId: agent.id, leaseMs: 1000 },
    );
    const sparse = await entries();
    expect(sparse.map((e) => [e.id, e.tags, e.pendingInputs])).toEqual([
      [made[0]!.id, [{ key: 'n', value: '0' }], [input.path]],
      [made[9]!.id, [{ key: 'n', value: '9' }], [input.path]],
    ]);
  });

  it('completes rows given in any order (as a read by UUID returns them) with their own tags and inputs', async () => {
    const input = fakeDerivation('order-input');
    const drvs = Array.from({ length: 6 }, (_, i) => fakeDerivation(`order-${i}`, { inputs: [input] }));
    await recordDerivations(ctx.store.db, [input, ...drvs]);
    const made = await createBuilds(
      ctx.store.db,
      drvs.map((d, i) => ({ derivationPath: d.path, tags: [{ key: 'n', value: String(i) }] })),
    );
    const rows = await selectQueueRows(ctx.store.db)
      .where(
        'b.uuid',
        'in',
        made.map((m) => m.id),
      )
      .orderBy('b.id', 'desc')
      .execute();
    // Dense ids, descending: completed by list, each row with what is its own.
    const entries = await queueEntriesOf(ctx.store.db, [rows[2]!, ...rows.filter((_, k) => k !== 2)]);
    const order = [2, 0, 1, 3, 4, 5].map((k) => made.length - 1 - k);
    expect(entries.map((e) => [e.id, e.tags, e.pendingInputs])).toEqual(
      order.map((i) => [made[i]!.id, [{ key: 'n', value: String(i) }], [input.path]]),
    );
  });
});
