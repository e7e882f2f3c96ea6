// Scheduler under concurrency and restarts, against real SQLite and PostgreSQL:
// 50 agents fetching at once never share a build; a coordinator stopped with
// builds queued, allocated and started loses nothing, and leases resume or
// expire by the (manual) clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild } from '@gbc/datastore';
import {
  call,
  createManualClock,
  createTestPlace,
  fakeDrv,
  makeAgent,
  startOn,
  submit,
} from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';

type Fetched = { builds: { uuid: string }[] };

describe.each(['sqlite', 'postgres'] as const)('scheduler on %s', (dialect) => {
  let place: TestPlace;
  beforeAll(() => {
    place = createTestPlace(dialect);
  });
  afterAll(() => place.remove());

  it('50 agents fetching at once never receive the same build', async () => {
    const c = await startOn(place);
    try {
      const drvs = Array.from({ length: 300 }, (_, i) => fakeDrv(`many-${i}`));
      await submit(
        c,
        drvs,
        drvs.map((d, i) => ({ derivationPath: d.path, priority: i % 7 })),
      );
      const agents = await Promise.all(Array.from({ length: 50 }, (_, i) => makeAgent(c, `crowd-${i}`)));
      const answers = await Promise.all(
        agents.map((ag) =>
          call(c, 'POST', `/agent/${ag.id}/fetch-builds`, ag.auth, { count: 8, systems: ['x86_64-linux'] }),
        ),
      );
      const ids = (
        await Promise.all(answers.map(async (r) => ((await r.json()) as Fetched).builds.map((b) => b.uuid)))
      ).flat();
      expect(ids.length).toBe(300);
      expect(new Set(ids).size).toBe(300);
      const rows = await c.context.datastore.db.selectFrom('attempts').select('build_id').execute();
      expect(new Set(rows.map((r) => r.build_id)).size).toBe(rows.length);
    } finally {
      await c.stop();
    }
  });

  it('restart keeps queued, allocated and started builds; leases resume, then expire by the clock', async () => {
    // A database of its own: the crowd's leases above must not count here.
    const own = createTestPlace(dialect);
    const clock = createManualClock();
    const first = await startOn(own, clock, 60);
    const a = await makeAgent(first, 'restart-a');
    const drvs = [fakeDrv('r-started'), fakeDrv('r-allocated'), fakeDrv('r-queued')];
    const [started, allocated, queued] = await submit(
      first,
      drvs,
      drvs.map((d, i) => ({ derivationPath: d.path, priority: 10 - i })),
    );
    const got = (
      (await (
        await call(first, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, {
          count: 2,
          systems: ['x86_64-linux'],
        })
      ).json()) as Fetched
    ).builds.map((b) => b.uuid);
    expect(got).toEqual([started, allocated]);
    expect((await call(first, 'POST', `/build/${started}/report-build-start`, a.auth)).status).toBe(204);
    await first.stop();

    clock.advance(30_000);
    const second = await startOn(own, clock, 60);
    try {
      expect(second.scheduler.counts().ready).toBe(1);
      // Within the lease: a status report renews both leases; nothing expires.
      expect(
        (
          await call(second, 'PUT', `/agent/${a.id}/status`, a.auth, {
            load1: 0,
            builds: [started, allocated],
          })
        ).status,
      ).toBe(200);
      clock.advance(45_000);
      expect(await second.checkLeases()).toBe(0);
      const b = await makeAgent(second, 'restart-b');
      const fetchB = async () =>
        (
          (await (
            await call(second, 'POST', `/agent/${b.id}/fetch-builds`, b.auth, {
              count: 5,
              systems: ['x86_64-linux'],
            })
          ).json()) as Fetched
        ).builds.map((x) => x.uuid);
      expect(await fetchB()).toEqual([queued]);
      // The agent goes silent: past the lease, both of its builds return to the queue.
      clock.advance(61_000);
      expect(await second.checkLeases()).toBe(3);
      expect((await getBuild(second.context.datastore.db, started!))?.state).toBe('queued');
      expect((await fetchB()).sort()).toEqual([started, allocated, queued].sort());
      // The silent agent's late result is refused.
      expect(
        (await call(second, 'POST', `/build/${started}/report-result`, a.auth, { result: 'build-failure' }))
          .status,
      ).toBe(403);
    } finally {
      await second.stop();
      own.remove();
    }
  });
});
