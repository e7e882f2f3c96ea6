// Which attempt of a build the calling agent holds: unknown build → 404,
// a build held by another agent (or by nobody) → 403, an attempt that ended
// (lease expired, canceled) → 409.
import type { Db } from '@gbc/datastore';
import { sql } from 'kysely';
import { HttpError } from '../http/http-error.js';

/** The calling agent's attempt on a build. */
export interface HeldAttempt {
  readonly attemptId: number;
  /** Internal id of the build. */
  readonly buildRowId: number;
  readonly buildId: string;
  readonly derivationPath: string;
  readonly startedAt: number | null;
}

/** The open attempt of `agentId` on build `buildId`; see the file header. */
export async function heldAttempt(db: Db, buildId: string, agentId: string): Promise<HeldAttempt> {
  // One query on every agent call about a build: the build with its latest attempt.
  const row = await db
    .selectFrom('builds as b')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .leftJoin('attempts as a', (j) =>
      j.on(sql<boolean>`a.id = (select max(id) from attempts where build_id = b.id)`),
    )
    .select(['b.id', 'd.path', 'a.id as attempt_id', 'a.agent_id', 'a.ended_at', 'a.started_at', 'a.result'])
    .where('b.uuid', '=', buildId)
    .executeTakeFirst();
  if (row === undefined) throw new HttpError('not-found', `no build ${buildId}`);
  if (row.attempt_id === null || row.agent_id !== agentId)
    throw new HttpError('forbidden', `build ${buildId} is not allocated to agent ${agentId}`);
  if (row.ended_at !== null) {
    throw new HttpError(
      'conflict',
      `the attempt of agent ${agentId} on build ${buildId} already ended (${row.result}); drop the build`,
      { details: { result: row.result } },
    );
  }
  return {
    attemptId: row.attempt_id,
    buildRowId: row.id,
    buildId,
    derivationPath: row.path,
    startedAt: row.started_at,
  };
}
