// Reads attempt rows (joined to their build for its UUID) into `Attempt`s.
import type { Selectable } from 'kysely';
import type { AttemptsTable } from './schema.js';
import type { Attempt, ResultKind } from './types.js';

/** Columns to select from `attempts as a` joined to `builds as b`. */
export const attemptColumns = [
  'a.id',
  'a.uuid',
  'b.uuid as build_uuid',
  'a.agent_id',
  'a.allocated_at',
  'a.lease_expires_at',
  'a.started_at',
  'a.ended_at',
  'a.result',
  'a.failure_reason',
  'a.log_location',
] as const;

/** A row selected with {@link attemptColumns}: the attempt's row with its build's UUID. */
export type AttemptRow = Omit<Selectable<AttemptsTable>, 'build_id'> & { build_uuid: string };

/** One row as an `Attempt`. */
export function toAttempt(r: AttemptRow): Attempt {
  return {
    id: r.id,
    uuid: r.uuid,
    buildId: r.build_uuid,
    agentId: r.agent_id,
    allocatedAt: r.allocated_at,
    leaseExpiresAt: r.lease_expires_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    result: r.result as ResultKind | null,
    failureReason: r.failure_reason,
    logLocation: r.log_location,
  };
}
