// The hook outbox on both dialects: transactional enqueue, leased claims,
// completion, exponential backoff, visible failures.
import { describe, expect, it } from 'vitest';
import {
  claimEvents,
  completeDueEvents,
  completeEvent,
  countPendingEvents,
  enqueueEvents,
  failEvent,
  getEvent,
  listFailedEvents,
} from './outbox.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('outbox on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it('keeps an event only if the enqueuing transaction commits', async () => {
    await expect(
      ctx.store.transaction(async (trx) => {
        await enqueueEvents(trx, [{ eventType: 'rolled-back', payload: 1 }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await ctx.store.transaction((trx) =>
      enqueueEvents(trx, [{ eventType: 'committed', payload: { a: [1, 'x'] } }], 100),
    );
    const counts = await countPendingEvents(ctx.store.db);
    expect(counts.get('rolled-back')).toBeUndefined();
    expect(counts.get('committed')).toBe(1);
  });

  it('leases claims, completes them, and retries failures with exponential backoff', async () => {
    const [id] = await enqueueEvents(ctx.store.db, [{ eventType: 'hook', payload: 'p' }], 1000);
    const first = await claimEvents(ctx.store.db, {
      owner: 'w1',
      leaseMs: 500,
      limit: 5,
      eventTypes: ['hook'],
      now: 1000,
    });
    expect(first).toEqual([
      {
        id,
        eventType: 'hook',
        payload: 'p',
        createdAt: 1000,
        attempts: 1,
        nextAttemptAt: 1000,
        lastError: null,
        doneAt: null,
      },
    ]);
    expect(
      await claimEvents(ctx.store.db, {
        owner: 'w2',
        leaseMs: 500,
        limit: 5,
        eventTypes: ['hook'],
        now: 1200,
      }),
    ).toEqual([]);
    // The lease runs out: another worker gets it.
    const stolen = await claimEvents(ctx.store.db, {
      owner: 'w2',
      leaseMs: 500,
      limit: 5,
      eventTypes: ['hook'],
      now: 1600,
    });
    expect(stolen.map((e) => [e.id, e.attempts])).toEqual([[id, 2]]);
    expect(await completeEvent(ctx.store.db, id!, 'w1', 1700)).toBe(false);
    expect(await failEvent(ctx.store.db, id!, 'w2', 'HTTP 500', { baseMs: 100 }, 1700)).toBe(1700 + 200);
    expect(await listFailedEvents(ctx.store.db)).toEqual([
      expect.objectContaining({ id, lastError: 'HTTP 500', attempts: 2 }),
    ]);
    expect(
      await claimEvents(ctx.store.db, {
        owner: 'w3',
        leaseMs: 500,
        limit: 5,
        eventTypes: ['hook'],
        now: 1899,
      }),
    ).toEqual([]);
    const third = await claimEvents(ctx.store.db, {
      owner: 'w3',
      leaseMs: 500,
      limit: 5,
      eventTypes: ['hook'],
      now: 1900,
    });
    expect(third[0]?.attempts).toBe(3);
    expect(await failEvent(ctx.store.db, id!, 'w3', 'again', { baseMs: 100, maxMs: 300 }, 2000)).toBe(2300);
    const fourth = await claimEvents(ctx.store.db, {
      owner: 'w4',
      leaseMs: 500,
      limit: 5,
      eventTypes: ['hook'],
      now: 2300,
    });
    expect(await completeEvent(ctx.store.db, fourth[0]!.id, 'w4', 2400)).toBe(true);
    expect((await getEvent(ctx.store.db, id!))?.doneAt).toBe(2400);
    expect(await listFailedEvents(ctx.store.db)).toEqual([]);
    expect(
      await claimEvents(ctx.store.db, {
        owner: 'w5',
        leaseMs: 500,
        limit: 5,
        eventTypes: ['hook'],
        now: 99_999,
      }),
    ).toEqual([]);
  });

  it('claims oldest first within the limit and honours notBefore', async () => {
    const ids = await enqueueEvents(
      ctx.store.db,
      [0, 1, 2, 3].map((i) => ({ eventType: 'order', payload: i, notBefore: i === 3 ? 10_000 : undefined })),
      5000,
    );
    const got = await claimEvents(ctx.store.db, {
      owner: 'o',
      leaseMs: 100,
      limit: 2,
      eventTypes: ['order'],
      now: 5000,
    });
    expect(got.map((e) => e.id)).toEqual(ids.slice(0, 2));
    const rest = await claimEvents(ctx.store.db, {
      owner: 'o',
      leaseMs: 100,
      limit: 10,
      eventTypes: ['order'],
      now: 5000,
    });
    expect(rest.map((e) => e.id)).toEqual([ids[2]]);
  });

  it('completes at once the due events of a type that no worker holds, and only those', async () => {
    const [due, held, later] = await enqueueEvents(
      ctx.store.db,
      [0, 1, 2].map((i) => ({ eventType: 'unhooked', payload: i, notBefore: i === 2 ? 9_000 : undefined })),
      5000,
    );
    const [other] = await enqueueEvents(ctx.store.db, [{ eventType: 'hooked', payload: 'x' }], 5000);
    await claimEvents(ctx.store.db, {
      owner: 'w',
      leaseMs: 1000,
      limit: 1,
      eventTypes: ['unhooked'],
      now: 5000,
    }); // holds `due`, the oldest
    expect(await completeDueEvents(ctx.store.db, 'unhooked', 5500)).toBe(1);
    expect((await getEvent(ctx.store.db, held!))?.doneAt).toBe(5500);
    expect((await getEvent(ctx.store.db, due!))?.doneAt).toBeNull();
    expect((await getEvent(ctx.store.db, later!))?.doneAt).toBeNull();
    expect((await getEvent(ctx.store.db, other!))?.doneAt).toBeNull();
    // Once the lease has run out and the later one is due, both go.
    expect(await completeDueEvents(ctx.store.db, 'unhooked', 9_000)).toBe(2);
    expect(await completeDueEvents(ctx.store.db, 'unhooked', 9_000)).toBe(0);
  });

  it('completes unhooked events in bounded batches, oldest first', async () => {
    const ids = await enqueueEvents(
      ctx.store.db,
      [0, 1, 2, 3, 4].map((i) => ({ eventType: 'many', payload: i })),
      7000,
    );
    expect(await completeDueEvents(ctx.store.db, 'many', 7000, 2)).toBe(2);
    expect(
      await Promise.all(ids.map(async (id) => (await getEvent(ctx.store.db, id))?.doneAt ?? null)),
    ).toEqual([7000, 7000, null, null, null]);
    expect(await completeDueEvents(ctx.store.db, 'many', 7000, 2)).toBe(2);
    expect(await completeDueEvents(ctx.store.db, 'many', 7000, 2)).toBe(1);
  });
});
