// The overview's builds-per-minute counter on a real datastore (SQLite file
// and PostgreSQL): what ended before it started is read once from the
// builds table (within the window only), what ends later comes from the
// event bus; minutes are counted apart, and old minutes fall out.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPlace, fakeDrv, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import type { ManualClock } from '../clock.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { startControlled } from '../limits/test-support.js';
import { createFinishRate } from './finish-rate.js';

const MINUTE = 60_000;

describe.each(['sqlite', 'postgres'] as const)('finish rate on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let clock: ManualClock;

  beforeAll(async () => {
    place = createTestPlace(dialect);
    ({ c, clock } = await startControlled(place));
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  it('counts builds ended before it started from the database, and later ones from events', async () => {
    const db = c.context.datastore.db;
    const drvs = [0, 1, 2, 3].map((i) => fakeDrv(`rate-${i}`));
    const ids = await submit(
      c,
      drvs,
      drvs.map((d) => ({ derivationPath: d.path })),
    );
    const now = clock.now();
    const minute = Math.floor(now / MINUTE) * MINUTE;
    const end = async (id: string, state: string, at: number) =>
      sql`update builds set state = ${state}, ended_at = ${at} where uuid = ${id}`.execute(db);
    await end(ids[0]!, 'succeeded', minute - 5 * MINUTE + 1_000);
    await end(ids[1]!, 'succeeded', minute - 5 * MINUTE + 50_000);
    await end(ids[2]!, 'failed', minute - 2 * MINUTE);
    await end(ids[3]!, 'succeeded', minute - 200 * MINUTE); // before the 3-hour window

    const rate = createFinishRate({ db, events: c.context.events, clock });
    try {
      const before = await rate.series(10);
      expect(before).toHaveLength(10);
      expect(before.at(-1)!.minute).toBe(minute);
      expect(before.find((m) => m.minute === minute - 5 * MINUTE)).toMatchObject({ succeeded: 2, failed: 0 });
      expect(before.find((m) => m.minute === minute - 2 * MINUTE)).toMatchObject({ succeeded: 0, failed: 1 });
      const total = (s: typeof before) => s.reduce((n, m) => n + m.succeeded + m.failed, 0);
      expect(total(await rate.series(180))).toBe(3);

      // Later: one success by event, in the next minute; other events do not count.
      clock.advance(MINUTE);
      const time = new Date(clock.now()).toISOString();
      c.context.events.publish({ type: 'build-success', build: ids[0]!, time });
      c.context.events.publish({ type: 'build-started', build: ids[1]!, time });
      const after = await rate.series(10);
      expect(after.at(-1)).toMatchObject({ minute: minute + MINUTE, succeeded: 1, failed: 0 });
      expect(total(after)).toBe(4);
      // The database is not read again: a build ended in it now is not counted twice or at all.
      await end(ids[1]!, 'succeeded', clock.now());
      expect(total(await rate.series(10))).toBe(4);

      // Four hours later, every minute seen so far has left the window.
      clock.advance(240 * MINUTE);
      expect(total(await rate.series(180))).toBe(0);
    } finally {
      rate.close();
    }
  });
});
