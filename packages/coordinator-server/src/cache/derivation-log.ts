// Which log answers `GET /log/<drv>`: the latest successful attempt's log of
// any build of the derivation, else the latest attempt's that has a sealed log
// or is still running (its live log). Logs are read by their log-store key
// (storage/log-key.ts), never by the stored object's location.
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';
import { logKey } from '../storage/log-key.js';

/** The log-store key of the log to serve for derivation `drvPath` (full path), or null. */
export async function latestLogKey(db: Db, drvPath: string): Promise<string | null> {
  const row = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select(['b.uuid', 'a.id'])
    .where('d.path', '=', drvPath)
    .where((eb) =>
      eb.or([
        eb('a.log_location', 'is not', null),
        eb.and([eb('a.started_at', 'is not', null), eb('a.ended_at', 'is', null)]),
      ]),
    )
    .orderBy(sql`case when a.result = 'success' then 0 else 1 end`)
    .orderBy(sql`coalesce(a.ended_at, a.started_at, a.allocated_at)`, 'desc')
    .orderBy('a.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : logKey(row.uuid, row.id);
}
