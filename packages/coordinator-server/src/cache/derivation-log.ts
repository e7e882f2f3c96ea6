// Which stored log answers `GET /log/<drv>`: the latest successful attempt's
// log of any build of the derivation, else the latest attempt's with a log.
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';

/** The log-store key of the log to serve for derivation `drvPath` (full path), or null. */
export async function latestLogKey(db: Db, drvPath: string): Promise<string | null> {
  const row = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select('a.log_location')
    .where('d.path', '=', drvPath)
    .where('a.log_location', 'is not', null)
    .orderBy(sql`case when a.result = 'success' then 0 else 1 end`)
    .orderBy(sql`coalesce(a.ended_at, a.started_at, a.allocated_at)`, 'desc')
    .orderBy('a.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.log_location ?? null;
}
