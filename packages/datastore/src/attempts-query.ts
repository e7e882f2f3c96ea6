// Reads attempts: the open ones (to resume leases after a restart), those of
// a build, and an agent's most recent finished ones.
import { attemptColumns, toAttempt } from './attempt-rows.js';
import { checkPageLimit } from './errors.js';
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

/** A finished attempt of an agent, with what its build was. */
export interface EndedAttempt extends Attempt {
  readonly endedAt: number;
  readonly derivationPath: string;
  readonly system: string;
}

/** The `limit` (1–1000) most recently allocated finished attempts of `agentId`, newest first. */
export async function listEndedAttempts(db: Db, agentId: string, limit: number): Promise<EndedAttempt[]> {
  checkPageLimit(limit);
  // Walks attempts_ended_agent (agent_id, id) backwards.
  const rows = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select([...attemptColumns, 'd.path as derivation_path', 'b.system'])
    .where('a.agent_id', '=', agentId)
    .where('a.ended_at', 'is not', null)
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ...toAttempt(r),
    endedAt: r.ended_at!, // selected where not null
    derivationPath: r.derivation_path,
    system: r.system,
  }));
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
