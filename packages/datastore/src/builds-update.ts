// Changes to builds from clients: cancel (one, or every build with a tag) and
// priority updates. Each returns what changed so the caller can emit events.
import { NotFoundError, StateConflictError } from './errors.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { TagFilter } from './builds-list.js';
import type { BuildState } from './types.js';

/** A build that was canceled, and its attempt still running on an agent (if any). */
export interface CanceledBuild {
  /** The build's UUID. */
  readonly id: string;
  /** State before the cancel. */
  readonly previousState: BuildState;
  /** The started attempt the agent must abort, or null. Unstarted attempts are ended as canceled. */
  readonly runningAttempt: { readonly id: number; readonly agentId: string } | null;
}

/**
 * Cancels the build `id` if it is queued, allocated or started.
 * @throws NotFoundError `build-not-found`; StateConflictError `build-finished` if it already ended.
 */
export async function cancelBuild(db: Db, id: string, now: number = Date.now()): Promise<CanceledBuild> {
  return inTransaction(db, async (trx) => {
    const row = await trx
      .selectFrom('builds')
      .select(['id', 'state'])
      .where('uuid', '=', id)
      .executeTakeFirst();
    if (row === undefined) throw new NotFoundError('build-not-found', `no build ${id}`);
    const canceled = await cancelRows(trx, [row.id], now);
    const one = canceled[0];
    if (one === undefined)
      throw new StateConflictError(
        'build-finished',
        `build ${id} is already ${row.state} and cannot be canceled`,
      );
    return one;
  });
}

/** Cancels every queued, allocated or started build carrying `tag`. */
export async function cancelBuildsByTag(
  db: Db,
  tag: TagFilter,
  now: number = Date.now(),
): Promise<CanceledBuild[]> {
  return inTransaction(db, async (trx) => {
    const rows = await trx
      .selectFrom('build_tags')
      .select('build_id')
      .where('key', '=', tag.key)
      .$if(tag.value !== undefined, (q) => q.where('value', '=', tag.value!))
      .execute();
    return cancelRows(trx, [...new Set(rows.map((r) => r.build_id))], now);
  });
}

async function cancelRows(trx: Db, ids: readonly number[], now: number): Promise<CanceledBuild[]> {
  const out: CanceledBuild[] = [];
  // Chunks of 1000 keep every statement's parameters small on both dialects.
  for (let i = 0; i < ids.length; i += 1000) {
    const part = ids.slice(i, i + 1000);
    const before = await trx
      .selectFrom('builds')
      .select(['id', 'uuid', 'state'])
      .where('id', 'in', part)
      .where('state', 'in', ['queued', 'allocated', 'started'])
      .execute();
    if (before.length === 0) continue;
    const updated = await trx
      .updateTable('builds')
      .set({ state: 'canceled', ended_at: now })
      .where(
        'id',
        'in',
        before.map((b) => b.id),
      )
      .where('state', 'in', ['queued', 'allocated', 'started'])
      .returning('id')
      .execute();
    const live = updated.map((b) => b.id);
    if (live.length === 0) continue;
    await trx
      .updateTable('attempts')
      .set({ ended_at: now, result: 'canceled', failure_reason: 'build canceled' })
      .where('build_id', 'in', live)
      .where('ended_at', 'is', null)
      .where('started_at', 'is', null)
      .execute();
    const running = await trx
      .selectFrom('attempts')
      .select(['id', 'build_id', 'agent_id'])
      .where('build_id', 'in', live)
      .where('ended_at', 'is', null)
      .execute();
    const runningByBuild = new Map(running.map((a) => [a.build_id, { id: a.id, agentId: a.agent_id }]));
    const done = new Set(live);
    for (const b of before.filter((x) => done.has(x.id)))
      out.push({
        id: b.uuid,
        previousState: b.state as BuildState,
        runningAttempt: runningByBuild.get(b.id) ?? null,
      });
  }
  return out;
}

/**
 * Sets the priority of build `id`.
 * @throws NotFoundError `build-not-found`.
 */
export async function updateBuildPriority(db: Db, id: string, priority: number): Promise<void> {
  const r = await db.updateTable('builds').set({ priority }).where('uuid', '=', id).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new NotFoundError('build-not-found', `no build ${id}`);
}

/** Sets or clears the defer-until time of build `id`. */
export async function updateBuildDeferUntil(db: Db, id: string, deferUntil: number | null): Promise<void> {
  const r = await db
    .updateTable('builds')
    .set({ defer_until: deferUntil })
    .where('uuid', '=', id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw new NotFoundError('build-not-found', `no build ${id}`);
}
