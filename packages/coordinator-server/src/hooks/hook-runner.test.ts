// The hook runner against a real SQLite file: a failing hook is retried after
// its backoff and eventually runs, a restart in between loses nothing, stop
// waits for in-flight runs, and per-type parallelism is honoured.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimEvents, enqueueEvents, getEvent } from '@gbc/datastore';
import type { HookStatus } from '@gbc/protocol';
import { createClientApp } from '../client-api/client-app.js';
import { createManualClock, type ManualClock } from '../clock.js';
import { waitFor } from '../test-support/bytes.js';
import { listHookFailures, hookQueueDepth } from './hook-failures.js';
import { createHookRunner, DEFAULT_HOOK_LEASE_MS, type HookRunner } from './hook-runner.js';
import type { HookEvent, HookFunction } from './hook-types.js';
import {
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from './testing/test-coordinator.js';
import { createPostgresDatabase } from './testing/test-postgres.js';

describe.each(['sqlite', 'postgres'] as const)('hook runner on %s', (dialect) => {
  let dir: string;
  let clock: ManualClock;
  let databaseUri: string | undefined;
  let drop: (() => Promise<void>) | undefined;
  const open: TestCoordinator[] = [];
  const runners: HookRunner[] = [];

  beforeEach(async () => {
    dir = await makeTestDir();
    clock = createManualClock(Date.UTC(2026, 5, 1));
    if (dialect === 'postgres') ({ uri: databaseUri, drop } = await createPostgresDatabase());
  });

  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    for (const t of open.splice(0)) await t.close();
    await drop?.();
    await removeTestDir(dir);
  });

  /** Opens a coordinator on this test's database (the same one again after a restart). */
  async function coordinator(): Promise<TestCoordinator> {
    const t = await openTestCoordinator(dir, {
      clock,
      ...(databaseUri === undefined ? {} : { databaseUri }),
    });
    open.push(t);
    return t;
  }

  function run(
    t: TestCoordinator,
    hooks: Record<string, HookFunction[]>,
    parallelism?: Record<string, number>,
  ): HookRunner {
    const r = createHookRunner(t.ctx, {
      hooks: new Map(Object.entries(hooks)),
      backoff: { baseMs: 60_000 },
      pollIntervalMs: 20,
      ...(parallelism === undefined ? {} : { parallelism }),
    });
    runners.push(r);
    r.start();
    return r;
  }

  const build = '7b0c4a3e-1f2d-4c5b-8a9e-0d1c2b3a4f5e';

  describe('runs', () => {
    it('retries a failing hook after its backoff until it runs, and shows the failure meanwhile', async () => {
      const t = await coordinator();
      const seen: HookEvent[] = [];
      const hook: HookFunction = (e) => {
        seen.push(e);
        if (seen.length === 1) throw new Error('the service is down');
      };
      const [id] = await enqueueEvents(
        t.ctx.datastore.db,
        [{ eventType: 'build-success', payload: { build, derivation: '/gnu/store/x.drv' } }],
        clock.now(),
      );
      const runner = run(t, { 'build-success': [hook] });
      await waitFor(
        async () => (await getEvent(t.ctx.datastore.db, id!))?.lastError !== null,
        'the first failure to be recorded',
      );
      const failures = await listHookFailures(t.ctx.datastore.db);
      expect(failures).toEqual([
        expect.objectContaining({
          id,
          eventType: 'build-success',
          build,
          attempts: 1,
          nextAttemptAt: clock.now() + 60_000,
        }),
      ]);
      expect(failures[0]!.lastError).toContain('the service is down');
      expect(runner.stats().get('build-success')).toMatchObject({ failed: 1, processed: 0 });
      // Operators see it through the client API (GET /hooks, `gbc hooks`).
      const app = createClientApp(t.ctx);
      const shown = (await (await app.request('/hooks')).json()) as HookStatus;
      expect(shown.queue).toEqual([{ eventType: 'build-success', pending: 1 }]);
      expect(shown.failing).toEqual([
        expect.objectContaining({
          id,
          eventType: 'build-success',
          build,
          attempts: 1,
          nextAttemptAt: new Date(clock.now() + 60_000).toISOString(),
        }),
      ]);
      expect(shown.failing[0]!.lastError).toContain('the service is down');
      expect((await app.request('/hooks?limit=0')).status).toBe(400);
      clock.advance(60_000);
      runner.wake();
      await waitFor(
        async () => (await getEvent(t.ctx.datastore.db, id!))?.doneAt !== null,
        'the retry to succeed',
      );
      expect(seen.map((e) => e.attempt)).toEqual([1, 2]);
      expect(seen[1]).toMatchObject({ id, type: 'build-success', build, derivation: '/gnu/store/x.drv' });
      expect(await listHookFailures(t.ctx.datastore.db)).toEqual([]);
      expect((await hookQueueDepth(t.ctx.datastore.db)).get('build-success')).toBeUndefined();
      expect(await (await app.request('/hooks')).json()).toEqual({ queue: [], failing: [] });
    });

    it("renews the lease of a long-running hook, and runs a dead worker's event again once its short lease is out", async () => {
      const t = await coordinator();
      const db = t.ctx.datastore.db;
      const leaseOf = async (id: number) =>
        Number(
          (
            await db
              .selectFrom('outbox')
              .select('lease_expires_at')
              .where('id', '=', id)
              .executeTakeFirstOrThrow()
          ).lease_expires_at,
        );
      // A worker that died holding an event (a coordinator killed mid-hook): its lease is the default one.
      const [orphan] = await enqueueEvents(
        db,
        [{ eventType: 'build-failure', payload: { build } }],
        clock.now(),
      );
      expect(
        (
          await claimEvents(db, {
            owner: 'killed/build-failure/0',
            leaseMs: DEFAULT_HOOK_LEASE_MS,
            limit: 1,
            eventTypes: ['build-failure'],
            now: clock.now(),
          })
        ).map((e) => e.id),
      ).toEqual([orphan]);
      const ran: number[] = [];
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      const [long] = await enqueueEvents(
        db,
        [{ eventType: 'build-success', payload: { build } }],
        clock.now(),
      );
      const r = createHookRunner(t.ctx, {
        hooks: new Map<string, HookFunction[]>([
          [
            'build-success',
            [
              async (e) => {
                ran.push(e.id);
                await released;
              },
            ],
          ],
          ['build-failure', [(e) => void ran.push(e.id)]],
        ]),
        pollIntervalMs: 20,
        leaseMs: 300,
      });
      runners.push(r);
      r.start();
      await waitFor(() => ran.includes(long!), 'the long hook to start');
      const first = await leaseOf(long!);
      clock.advance(200);
      await waitFor(
        async () => (await leaseOf(long!)) > first,
        'the lease to be renewed while the hook runs',
      );
      clock.advance(250); // past the first lease, within the renewed one
      expect(
        await claimEvents(db, {
          owner: 'another/build-success/0',
          leaseMs: 300,
          limit: 1,
          eventTypes: ['build-success'],
          now: clock.now(),
        }),
      ).toEqual([]);
      release();
      await waitFor(async () => (await getEvent(db, long!))?.doneAt !== null, 'the long hook to complete');
      expect((await getEvent(db, long!))?.attempts).toBe(1);
      // The orphan waits out its lease, then runs.
      expect(ran).not.toContain(orphan);
      clock.advance(DEFAULT_HOOK_LEASE_MS);
      r.wake();
      await waitFor(
        async () => (await getEvent(db, orphan!))?.doneAt !== null,
        "the dead worker's event to run",
      );
      expect(ran.filter((id) => id === orphan)).toEqual([orphan]);
    });

    it('does not lose a failed event across a restart on the same database', async () => {
      const first = await coordinator();
      const [id] = await enqueueEvents(
        first.ctx.datastore.db,
        [{ eventType: 'build-failure', payload: { build } }],
        clock.now(),
      );
      const r1 = run(first, { 'build-failure': [() => Promise.reject(new Error('not yet'))] });
      await waitFor(
        async () =>
          (await getEvent(first.ctx.datastore.db, id!))?.attempts === 1 &&
          (await listHookFailures(first.ctx.datastore.db)).length === 1,
        'a failure',
      );
      await r1.stop();
      await first.close();
      open.splice(open.indexOf(first), 1);

      const second = await coordinator();
      const ran: number[] = [];
      run(second, { 'build-failure': [(e) => void ran.push(e.id)] });
      clock.advance(60_000);
      await waitFor(
        async () => (await getEvent(second.ctx.datastore.db, id!))?.doneAt !== null,
        'the event to run after the restart',
      );
      expect(ran).toEqual([id]);
    });

    it('gives an event held by a worker that went silent to another one once its lease runs out', async () => {
      const t = await coordinator();
      let stuck = false;
      const [id] = await enqueueEvents(
        t.ctx.datastore.db,
        [{ eventType: 'build-success', payload: { build } }],
        clock.now(),
      );
      const lost = createHookRunner(t.ctx, {
        hooks: new Map([
          [
            'build-success',
            [
              (_e, { signal }) =>
                new Promise<void>((_r, reject) => {
                  stuck = true;
                  signal.addEventListener('abort', () => reject(new Error('aborted')));
                }),
            ],
          ],
        ]),
        leaseMs: 30_000,
        pollIntervalMs: 20,
        forceStopAfterMs: 10,
      });
      lost.start();
      await waitFor(() => stuck, 'the first worker to hang');
      const other = await coordinator();
      const ran: number[] = [];
      run(other, { 'build-success': [(e) => void ran.push(e.attempt)] });
      clock.advance(30_001);
      await waitFor(
        async () => (await getEvent(other.ctx.datastore.db, id!))?.doneAt !== null,
        'the other worker to take the event over',
      );
      expect(ran).toEqual([2]);
      await lost.stop();
    });

    it('stop() lets an in-flight hook finish and completes its event', async () => {
      const t = await coordinator();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let started = false;
      const [id] = await enqueueEvents(
        t.ctx.datastore.db,
        [{ eventType: 'build-started', payload: { build } }],
        clock.now(),
      );
      const runner = run(t, {
        'build-started': [
          async () => {
            started = true;
            await gate;
          },
        ],
      });
      await waitFor(() => started, 'the hook to start');
      let stopped = false;
      const stopping = runner.stop().then(() => (stopped = true));
      await Promise.resolve();
      expect(stopped).toBe(false);
      release();
      await stopping;
      expect((await getEvent(t.ctx.datastore.db, id!))?.doneAt).not.toBeNull();
    });

    it('runs at most `parallelism` events of a type at once, and every event once', async () => {
      const t = await coordinator();
      let active = 0;
      let max = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const done: number[] = [];
      const ids = await enqueueEvents(
        t.ctx.datastore.db,
        Array.from({ length: 7 }, (_, i) => ({ eventType: 'build-submitted', payload: { build, i } })),
        clock.now(),
      );
      const runner = run(
        t,
        {
          'build-submitted': [
            async (e) => {
              active += 1;
              max = Math.max(max, active);
              await gate;
              active -= 1;
              done.push(e.id);
            },
          ],
        },
        { 'build-submitted': 3 },
      );
      await waitFor(() => active === 3, 'three hooks in flight');
      expect(runner.stats().get('build-submitted')).toMatchObject({ inFlight: 3, workers: 3 });
      release();
      await waitFor(() => done.length === 7, 'all events processed');
      expect(max).toBe(3);
      expect([...done].sort((a, b) => a - b)).toEqual(ids);
    });

    it('completes events of standard types that have no hook', async () => {
      const t = await coordinator();
      const [id] = await enqueueEvents(
        t.ctx.datastore.db,
        [{ eventType: 'build-canceled', payload: { build } }],
        clock.now(),
      );
      run(t, {});
      await waitFor(
        async () => (await getEvent(t.ctx.datastore.db, id!))?.doneAt !== null,
        'the unhooked event to be completed',
      );
      expect((await hookQueueDepth(t.ctx.datastore.db)).size).toBe(0);
    });
  });
});
