// Which attempt of a build the calling agent holds: unknown build → 404,
// a build held by another agent (or by nobody) → 403, an attempt that ended
// (lease expired, canceled) → 409.
import type { Db } from '@gbc/datastore';
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
  const build = await db.selectFrom('builds as b').innerJoin('derivations as d', 'd.id', 'b.derivation_id').select(['b.id', 'b.state', 'd.path']).where('b.uuid', '=', buildId).executeTakeFirst();
  if (build === undefined) throw new HttpError('not-found', `no build ${buildId}`);
  const attempt = await db
    .selectFrom('attempts')
    .select(['id', 'agent_id', 'ended_at', 'started_at', 'result'])
    .where('build_id', '=', build.id)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (attempt === undefined || attempt.agent_id !== agentId) throw new HttpError('forbidden', `build ${buildId} is not allocated to agent ${agentId}`);
  if (attempt.ended_at !== null) {
    throw new HttpError('conflict', `the attempt of agent ${agentId} on build ${buildId} already ended (${attempt.result}); drop the build`, { details: { result: attempt.result } });
  }
  return { attemptId: attempt.id, buildRowId: build.id, buildId, derivationPath: build.path, startedAt: attempt.started_at };
}
