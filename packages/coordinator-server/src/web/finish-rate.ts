// Builds finished per minute over the last hours, for the overview's chart,
// kept in memory: one counter pair per minute, fed by the event bus
// (build-success, build-failure). The minutes before this coordinator
// started are read once, on the first request, with one query over the
// builds that ended in the window (the builds table has no index on its end
// time, so this is the one scan; no request after it reads history).
// Builds finished by another coordinator process sharing a PostgreSQL
// database appear only through that first read.
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';
import type { Clock } from '../clock.js';
import type { EventBus } from '../events/event-bus.js';

const MINUTE = 60_000;

/** Finished builds in one minute. */
export interface MinuteCount {
  /** Start of the minute, ms since the epoch. */
  readonly minute: number;
  readonly succeeded: number;
  readonly failed: number;
}

/** The per-minute counter; see the file header. */
export interface FinishRate {
  /** The last `minutes` minutes up to `now`, oldest first (minutes without builds count 0). */
  series(minutes?: number): Promise<MinuteCount[]>;
  /** Stops listening to the event bus. */
  close(): void;
}

/** Default window of the chart: 3 hours. */
export const DEFAULT_WINDOW_MINUTES = 180;

/** Starts counting finished builds; `windowMinutes` of history are kept. */
export function createFinishRate(
  deps: { readonly db: Db; readonly events: EventBus; readonly clock: Clock },
  windowMinutes = DEFAULT_WINDOW_MINUTES,
): FinishRate {
  const counts = new Map<number, { succeeded: number; failed: number }>();
  const since = deps.clock.now();
  const add = (at: number, succeeded: boolean, n = 1): void => {
    const minute = Math.floor(at / MINUTE) * MINUTE;
    const entry = counts.get(minute) ?? { succeeded: 0, failed: 0 };
    if (succeeded) entry.succeeded += n;
    else entry.failed += n;
    counts.set(minute, entry);
  };
  const unsubscribe = deps.events.subscribe(null, (e) => {
    if (e.type === 'build-success' || e.type === 'build-failure')
      add(Date.parse(e.time), e.type === 'build-success');
  });
  let backfilled: Promise<void> | undefined;
  const backfill = async (): Promise<void> => {
    const rows = await deps.db
      .selectFrom('builds')
      .select([
        'state',
        sql<number>`ended_at / ${sql.lit(MINUTE)}`.as('minute'),
        sql<number>`count(*)`.as('n'),
      ])
      .where('ended_at', '>=', since - windowMinutes * MINUTE)
      .where('ended_at', '<', since)
      .where('state', 'in', ['succeeded', 'failed'])
      .groupBy(['state', sql`ended_at / ${sql.lit(MINUTE)}`])
      .execute();
    for (const r of rows) add(Number(r.minute) * MINUTE, r.state === 'succeeded', Number(r.n));
  };
  return {
    async series(minutes = windowMinutes) {
      // A failed first read is tried again by the next request.
      backfilled ??= backfill().catch((error: unknown) => {
        backfilled = undefined;
        throw error;
      });
      await backfilled;
      const last = Math.floor(deps.clock.now() / MINUTE) * MINUTE;
      for (const minute of counts.keys()) if (minute <= last - windowMinutes * MINUTE) counts.delete(minute);
      const out: MinuteCount[] = [];
      for (let m = last - (minutes - 1) * MINUTE; m <= last; m += MINUTE)
        out.push({ minute: m, ...(counts.get(m) ?? { succeeded: 0, failed: 0 }) });
      return out;
    },
    close: unsubscribe,
  };
}
