// Exclusive claims: many concurrent claimers (several connections and pools,
// async callers, and a second process on the same database) never receive the
// same build or the same outbox event twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from './agents.js';
import { claimBuildsById, claimNextBuilds } from './attempts-claim.js';
import { createBuilds } from './builds-create.js';
import { openDatastore } from './datastore.js';
import type { Datastore } from './datastore.js';
import { recordDerivations } from './derivations.js';
import { claimEvents, completeEvent, enqueueEvents } from './outbox.js';
import { fakeDerivation } from './testing/fixtures.js';
import { removeChildLogs, spawnChild } from './testing/spawn-child.js';
import { DIALECTS, createTestDatabase } from './testing/test-database.js';
import type { TestDatabase } from './testing/test-database.js';

afterAll(removeChildLogs);

const BUILDS = 600;
const EVENTS = 600;

describe.each(DIALECTS)('exclusive claims on %s', (dialect) => {
  let database: TestDatabase;
  const stores: Datastore[] = [];
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    // PostgreSQL: several independent pools. SQLite: one handle per process (a
    // second better-sqlite3 connection in the same thread would block the
    // thread in its busy wait), raced by async callers and other processes.
    for (let i = 0; i < (dialect === 'postgres' ? 3 : 1); i++)
      stores.push(await openDatastore(database.uri, { poolSize: 4 }));
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await database.drop();
  });

  it('hands every build to exactly one claimer', async () => {
    const drv = fakeDerivation('contended');
    await recordDerivations(stores[0]!.db, [drv]);
    const made = await createBuilds(
      stores[0]!.db,
      Array.from({ length: BUILDS }, (_, i) => ({ derivationPath: drv.path, priority: i % 7 })),
    );
    const agent = await createAgent(stores[0]!.db, { name: 'contender' });
    const children = [
      spawnChild('claim-builds', database.uri, agent.id),
      spawnChild('claim-builds', database.uri, agent.id),
    ];
    const claimed: string[] = [];
    const byNext = async (store: Datastore) => {
      for (;;) {
        const got = await claimNextBuilds(store.db, {
          agentId: agent.id,
          systems: ['x86_64-linux'],
          count: 2,
          leaseMs: 600_000,
        });
        if (got.length === 0) return;
        claimed.push(...got.map((c) => c.buildId));
      }
    };
    // Claimers by id pick random builds, as the in-memory allocator would, racing the others.
    const byId = async (store: Datastore, seed: number) => {
      for (let i = 0; i < 60; i++) {
        const pick = [0, 1, 2].map((k) => made[(seed * 31 + i * 17 + k * 101) % BUILDS]!.id);
        claimed.push(
          ...(await claimBuildsById(store.db, pick, { agentId: agent.id, leaseMs: 600_000 })).map(
            (c) => c.buildId,
          ),
        );
      }
    };
    await Promise.all(children.map((c) => c.go()));
    // A child's first claim lands before this process starts: a SQLite writer
    // in a busy loop can starve the others' busy handlers (on a loaded machine
    // the children got nothing, and nothing was tested). One child may still
    // starve the other; the race that matters is between processes.
    await Promise.any(
      children.map((c) => c.waitFor((l) => Array.isArray((l as { builds?: unknown } | null)?.builds))),
    );
    await Promise.all([
      ...stores.flatMap((s, i) => [byNext(s), byNext(s), byId(s, i)]),
      ...children.map((c) => c.exited),
    ]);
    for (const c of children) expect(await c.exited, c.stderr()).toBe(0);
    const fromChildren = children.flatMap((c) =>
      c.lines.flatMap((l) => (l as { builds?: string[] }).builds ?? []),
    );
    // The other processes really competed.
    expect(fromChildren.length).toBeGreaterThan(0);
    const all = [...claimed, ...fromChildren];
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(all)).toEqual(new Set(made.map((m) => m.id)));
    const attempts = await stores[0]!.db
      .selectFrom('attempts')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(attempts.n)).toBe(BUILDS);
  });

  it('hands every outbox event to exactly one claimer', async () => {
    const ids = await enqueueEvents(
      stores[0]!.db,
      Array.from({ length: EVENTS }, (_, i) => ({ eventType: `t${i % 3}`, payload: i })),
    );
    const children = [spawnChild('claim-events', database.uri), spawnChild('claim-events', database.uri)];
    const claimed: number[] = [];
    const worker = async (store: Datastore, owner: string) => {
      for (;;) {
        const got = await claimEvents(store.db, { owner, leaseMs: 600_000, limit: 3 });
        if (got.length === 0) return;
        claimed.push(...got.map((e) => e.id));
        for (const e of got) expect(await completeEvent(store.db, e.id, owner)).toBe(true);
      }
    };
    await Promise.all(children.map((c) => c.go()));
    await Promise.any(
      children.map((c) => c.waitFor((l) => Array.isArray((l as { events?: unknown } | null)?.events))),
    );
    await Promise.all([
      ...stores.flatMap((s, i) => [worker(s, `p${i}a`), worker(s, `p${i}b`)]),
      ...children.map((c) => c.exited),
    ]);
    for (const c of children) expect(await c.exited, c.stderr()).toBe(0);
    const fromChildren = children.flatMap((c) =>
      c.lines.flatMap((l) => (l as { events?: number[] }).events ?? []),
    );
    expect(fromChildren.length).toBeGreaterThan(0);
    const all = [...claimed, ...fromChildren];
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort((a, b) => a - b)).toEqual(ids);
  });
});
