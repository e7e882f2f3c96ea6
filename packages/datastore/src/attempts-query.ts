// Reads attempts: the open ones (to resume leases after a restart) and those of a build.
import { attemptColumns, toAttempt } from './attempt-rows.js';
import type { Db } from './transaction.js';
import type { Attempt } from './types.js';

/** Attempts not ended yet, optionally only those of `agentId`, oldest first. */
export async function listOpenAttempts(db: Db, agentId?: string): Promise<Attempt[]> {
  const rows = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .select(attemptColumns)
    .where('a.ended_at', 'is', null)
    .$if(agentId !== undefined, (q) => q.where('a.agent_id', '=', agentId!))
    .orderBy('a.id')
    .execute();
  return rows.map(toAttempt);
}

/** One attempt by id, or undefined. */
export async function getAttempt(db: Db, attemptId: number): Promise<Attempt | undefined> {
  const row = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .select(attemptColumns)
    .where('a.id', '=', attemptId)
    .executeTakeFirst();
  return row === undefined ? undefined : toAttempt(row);
}

/** Counts of builds per state (for metrics). */
export async function countBuildsByState(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('builds')
    .select(['state', db.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}
