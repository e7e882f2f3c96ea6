// An attempt's life after the claim: start, lease renewal, finish (result,
// outputs, setup failure and outbox events in one transaction), lease expiry.
import { NotFoundError, StateConflictError } from './errors.js';
import { markDependentsBlocked, unblockDependents } from './blocking.js';
import { enqueueEvents } from './outbox.js';
import type { OutboxEventInput } from './outbox.js';
import { recordOutputMetadata } from './outputs.js';
import type { OutputMetadataInput } from './outputs.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { BuildState, ResultKind } from './types.js';

/**
 * Marks attempt `attemptId` of `agentId` started, the build `started`, and renews its lease.
 * @throws NotFoundError `attempt-not-found` (also for another agent's attempt); StateConflictError `attempt-ended`.
 */
export async function startAttempt(
  db: Db,
  attemptId: number,
  agentId: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<void> {
  await inTransaction(db, async (trx) => {
    const a = await openAttempt(trx, attemptId, agentId);
    await trx
      .updateTable('attempts')
      .set({ started_at: now, lease_expires_at: now + leaseMs })
      .where('id', '=', attemptId)
      .execute();
    await trx
      .updateTable('builds')
      .set({ state: 'started' })
      .where('id', '=', a.build_id)
      .where('state', '=', 'allocated')
      .execute();
  });
}

/** What reconciling a status report with the open attempts changed. */
export interface ReconciledAttempts {
  /** Attempts whose lease was renewed: the builds the report listed. */
  readonly renewed: number;
  /** Attempts the agent no longer holds, ended; their builds are queued again (unless canceled). */
  readonly released: readonly ReleasedAttempt[];
}

/** An open attempt that a status report showed lost. */
export interface ReleasedAttempt {
  readonly attemptId: number;
  /** The build's UUID. */
  readonly buildId: string;
}

/** Options of {@link reconcileAttempts}. */
export interface ReconcileOptions {
  readonly leaseMs: number;
  /**
   * When the agent's previous report arrived (null: this is its first). Only
   * attempts allocated before it can be lost: a later one may be in an answer
   * to fetch-builds that is still on its way to the agent.
   */
  readonly lostBefore: number | null;
  readonly now?: number;
}

/**
 * Reconciles a status report of `agentId` with its open attempts: the builds
 * the report lists (`listed`, build UUIDs) have their leases renewed; an open
 * attempt it does not list, allocated before the agent's previous report, is
 * lost (the agent was restarted without it, or never received the answer that
 * allocated it): it ends as an infrastructure failure and its build is queued
 * again. Without this an agent that keeps reporting would keep a lost build's
 * lease alive for ever.
 */
export async function reconcileAttempts(
  db: Db,
  agentId: string,
  listed: readonly string[],
  options: ReconcileOptions,
): Promise<ReconciledAttempts> {
  const now = options.now ?? Date.now();
  return inTransaction(db, async (trx) => {
    const open = await trx
      .selectFrom('attempts as a')
      .innerJoin('builds as b', 'b.id', 'a.build_id')
      .select(['a.id', 'a.build_id', 'a.allocated_at', 'b.uuid'])
      .where('a.agent_id', '=', agentId)
      .where('a.ended_at', 'is', null)
      .execute();
    if (open.length === 0) return { renewed: 0, released: [] };
    const held = new Set(listed);
    const renew = open.filter((a) => held.has(a.uuid)).map((a) => a.id);
    const lost = open.filter(
      (a) => !held.has(a.uuid) && options.lostBefore !== null && Number(a.allocated_at) < options.lostBefore,
    );
    if (renew.length > 0) {
      await trx
        .updateTable('attempts')
        .set({ lease_expires_at: now + options.leaseMs })
        .where('id', 'in', renew)
        .execute();
    }
    if (lost.length === 0) return { renewed: renew.length, released: [] };
    const ended = await trx
      .updateTable('attempts')
      .set({
        ended_at: now,
        result: 'infrastructure-failure',
        failure_reason:
          'released: the agent no longer holds this build (restarted, or the allocation never reached it)',
      })
      .where(
        'id',
        'in',
        lost.map((a) => a.id),
      )
      .where('ended_at', 'is', null)
      .returning(['id', 'build_id'])
      .execute();
    if (ended.length > 0) {
      await trx
        .updateTable('builds')
        .set({ state: 'queued' })
        .where(
          'id',
          'in',
          ended.map((e) => e.build_id),
        )
        .where('state', 'in', ['allocated', 'started'])
        .execute();
    }
    const uuidOf = new Map(lost.map((a) => [a.id, a.uuid]));
    return {
      renewed: renew.length,
      released: ended.map((e) => ({ attemptId: e.id, buildId: uuidOf.get(e.id)! })),
    };
  });
}

/** What an agent reports at the end of an attempt. */
export interface AttemptOutcome {
  readonly result: ResultKind;
  readonly failureReason?: string | null;
  readonly logLocation?: string | null;
  /** Output metadata to record (on success). */
  readonly outputs?: readonly OutputMetadataInput[];
  /** For `setup-failure`: the store paths that could not be had. */
  readonly missingInputs?: readonly string[];
  /** Hook events to enqueue in the same transaction. */
  readonly events?: readonly OutboxEventInput[];
}

/** What finishing changed. */
export interface FinishedAttempt {
  /** The build's UUID. */
  readonly buildId: string;
  readonly derivationPath: string;
  /** The build's state afterwards. */
  readonly buildState: BuildState;
  /** Builds newly blocked (after a failure) or unblocked (after a success). */
  readonly blocked: readonly string[];
  readonly unblocked: readonly string[];
}

/** Build state after an attempt ends with `result` (a canceled build stays canceled). */
export function stateAfter(result: ResultKind): BuildState {
  switch (result) {
    case 'success':
      return 'succeeded';
    case 'build-failure':
    case 'timeout':
      return 'failed';
    case 'canceled':
      return 'canceled';
    default:
      return 'queued';
  }
}

/**
 * How long a build waits before it is handed out again after its `failures`-th
 * setup or infrastructure failure, in ms: not at all after the first (an agent
 * that stopped, a passing fault), then 5 s, doubling, at most 10 minutes.
 */
export function retryDelayMs(failures: number): number {
  if (failures < 2) return 0;
  return Math.min(600_000, 5_000 * 2 ** Math.min(failures - 2, 20));
}

/**
 * Ends attempt `attemptId` with `outcome`, in one transaction: the attempt, the
 * build's state, output metadata, the setup failure, blocking of dependents
 * and the outbox events. Setup and infrastructure failures send the build back
 * to the queue: at once the first time, then deferred by {@link retryDelayMs}
 * (a machine that cannot set a build up would otherwise get it back at once,
 * again and again).
 */
export async function finishAttempt(
  db: Db,
  attemptId: number,
  agentId: string,
  outcome: AttemptOutcome,
  now: number = Date.now(),
): Promise<FinishedAttempt> {
  return inTransaction(db, async (trx) => {
    const a = await openAttempt(trx, attemptId, agentId);
    await trx
      .updateTable('attempts')
      .set({
        ended_at: now,
        result: outcome.result,
        failure_reason: outcome.failureReason ?? null,
        log_location: outcome.logLocation ?? null,
      })
      .where('id', '=', attemptId)
      .execute();
    const build = await trx
      .selectFrom('builds as b')
      .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
      .select(['b.uuid', 'b.state', 'b.defer_until', 'd.path'])
      .where('b.id', '=', a.build_id)
      .executeTakeFirstOrThrow();
    let state = build.state as BuildState;
    // A build canceled while running keeps its canceled state whatever the agent says.
    if (state !== 'canceled') {
      state = stateAfter(outcome.result);
      let deferUntil = build.defer_until;
      if (state === 'queued') {
        // This attempt's own result is already recorded above, so it counts.
        const failures = await trx
          .selectFrom('attempts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('build_id', '=', a.build_id)
          .where('result', 'in', ['setup-failure', 'infrastructure-failure'])
          .executeTakeFirstOrThrow();
        const delay = retryDelayMs(Number(failures.n));
        if (delay > 0) deferUntil = Math.max(Number(build.defer_until ?? 0), now + delay);
      }
      await trx
        .updateTable('builds')
        .set({ state, ended_at: state === 'queued' ? null : now, defer_until: deferUntil })
        .where('id', '=', a.build_id)
        .execute();
    }
    if (outcome.outputs !== undefined && outcome.outputs.length > 0)
      await recordOutputMetadata(trx, outcome.outputs, now, a.build_id);
    if (outcome.result === 'setup-failure') {
      const failure = await trx
        .insertInto('setup_failures')
        .values({ attempt_id: attemptId, build_id: a.build_id, created_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      const missing = [...new Set(outcome.missingInputs ?? [])];
      if (missing.length > 0)
        await trx
          .insertInto('setup_failure_missing_inputs')
          .values(missing.map((path) => ({ setup_failure_id: failure.id, path })))
          .execute();
    }
    const blocked = state === 'failed' ? await markDependentsBlocked(trx, build.path) : [];
    const unblocked = state === 'succeeded' ? await unblockDependents(trx, build.path) : [];
    if (outcome.events !== undefined) await enqueueEvents(trx, outcome.events, now);
    return { buildId: build.uuid, derivationPath: build.path, buildState: state, blocked, unblocked };
  });
}

/** An attempt whose lease ran out. */
export interface ExpiredAttempt {
  readonly attemptId: number;
  readonly agentId: string;
  /** The build's UUID; it is queued again unless it was canceled meanwhile. */
  readonly buildId: string;
}

/**
 * Ends every open attempt whose lease expired before `now` as an infrastructure
 * failure and puts its build back in the queue.
 */
export async function expireLeases(db: Db, now: number = Date.now()): Promise<ExpiredAttempt[]> {
  return inTransaction(db, async (trx) => {
    const expired = await trx
      .updateTable('attempts')
      .set({
        ended_at: now,
        result: 'infrastructure-failure',
        failure_reason: 'lease expired: the agent stopped reporting',
      })
      .where('ended_at', 'is', null)
      .where('lease_expires_at', '<', now)
      .returning(['id', 'agent_id', 'build_id'])
      .execute();
    if (expired.length === 0) return [];
    const buildIds = expired.map((e) => e.build_id);
    await trx
      .updateTable('builds')
      .set({ state: 'queued' })
      .where('id', 'in', buildIds)
      .where('state', 'in', ['allocated', 'started'])
      .execute();
    const uuids = await trx.selectFrom('builds').select(['id', 'uuid']).where('id', 'in', buildIds).execute();
    const uuidOf = new Map(uuids.map((u) => [u.id, u.uuid]));
    return expired.map((e) => ({ attemptId: e.id, agentId: e.agent_id, buildId: uuidOf.get(e.build_id)! }));
  });
}

/** Ends the unstarted attempts of `agentId` (e.g. when it is deactivated) and requeues their builds. */
export async function releaseUnstartedAttempts(
  db: Db,
  agentId: string,
  now: number = Date.now(),
): Promise<string[]> {
  return inTransaction(db, async (trx) => {
    const released = await trx
      .updateTable('attempts')
      .set({
        ended_at: now,
        result: 'infrastructure-failure',
        failure_reason: 'agent deactivated before starting',
      })
      .where('agent_id', '=', agentId)
      .where('ended_at', 'is', null)
      .where('started_at', 'is', null)
      .returning('build_id')
      .execute();
    if (released.length === 0) return [];
    const rows = await trx
      .updateTable('builds')
      .set({ state: 'queued' })
      .where(
        'id',
        'in',
        released.map((r) => r.build_id),
      )
      .where('state', '=', 'allocated')
      .returning('uuid')
      .execute();
    return rows.map((r) => r.uuid);
  });
}

async function openAttempt(trx: Db, attemptId: number, agentId: string): Promise<{ build_id: number }> {
  const a = await trx
    .selectFrom('attempts')
    .select(['build_id', 'ended_at', 'result'])
    .where('id', '=', attemptId)
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  if (a === undefined)
    throw new NotFoundError('attempt-not-found', `agent ${agentId} has no attempt ${attemptId}`);
  if (a.ended_at !== null)
    throw new StateConflictError(
      'attempt-ended',
      `attempt ${attemptId} already ended (${a.result}); a lease that expired cannot be resumed`,
    );
  return a;
}
