// Claims builds for an agent atomically: each claimed build becomes `allocated`
// with a new attempt holding a lease. A build is never given to two claimers.
// Claims by UUID go through `claimBuildsForAgents` (attempts-claim-many.ts).
import { PostgresAdapter } from 'kysely';
import { claimBuildsForAgents } from './attempts-claim-many.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import { uuidV7 } from './uuid-v7.js';

/** One build handed to an agent. */
export interface Claim {
  /** The build's UUID. */
  readonly buildId: string;
  readonly attemptId: number;
  /** The attempt's UUID. */
  readonly attemptUuid: string;
  readonly derivationPath: string;
  readonly leaseExpiresAt: number;
  /** The build's time limits in seconds, as submitted (null: none). */
  readonly timeoutS: number | null;
  readonly maxSilentTimeS: number | null;
}

/** Common options of the claims. */
export interface ClaimOptions {
  readonly agentId: string;
  /** Lease length in ms: the agent must report before it runs out. */
  readonly leaseMs: number;
  readonly now?: number;
}

/**
 * Claims the builds with UUIDs `buildIds` (picked by the coordinator's allocator)
 * for an agent. Builds no longer queued (taken by someone else, canceled, …)
 * are left out: the result lists only what this call got, in no particular order.
 */
export async function claimBuildsById(
  db: Db,
  buildIds: readonly string[],
  options: ClaimOptions,
): Promise<Claim[]> {
  const [claims] = await claimBuildsForAgents(db, [{ agentId: options.agentId, buildIds }], options);
  return claims!;
}

/** Options of {@link claimNextBuilds}. */
export interface ClaimNextOptions extends ClaimOptions {
  /** Systems the agent builds for. */
  readonly systems: readonly string[];
  /** How many builds at most. */
  readonly count: number;
}

/**
 * Claims up to `count` queued builds for `systems`, highest priority first, then
 * oldest; skips deferred and blocked builds. It does not look at inputs: the
 * coordinator's allocator does. PostgreSQL: `FOR UPDATE SKIP LOCKED`.
 */
export async function claimNextBuilds(db: Db, options: ClaimNextOptions): Promise<Claim[]> {
  if (options.count <= 0 || options.systems.length === 0) return [];
  const now = options.now ?? Date.now();
  const isPostgres = isPg(db);
  return inTransaction(db, async (trx) => {
    const pick = trx
      .selectFrom('builds')
      .select('id')
      .where('state', '=', 'queued')
      .where('system', 'in', options.systems)
      .where('blocked_by', 'is', null)
      .where((eb) => eb.or([eb('defer_until', 'is', null), eb('defer_until', '<=', now)]))
      .orderBy('priority', 'desc')
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .limit(options.count)
      .$if(isPostgres, (q) => q.forUpdate().skipLocked());
    const rows = await trx
      .updateTable('builds')
      .set({ state: 'allocated' })
      .where('id', 'in', pick)
      .where('state', '=', 'queued')
      .returning((eb) => [
        'id',
        'uuid',
        'priority',
        'created_at',
        'timeout_s',
        'max_silent_time_s',
        eb
          .selectFrom('derivations as d')
          .select('d.path')
          .whereRef('d.id', '=', 'builds.derivation_id')
          .$asScalar()
          .$notNull()
          .as('path'),
      ])
      .execute();
    // RETURNING gives no order: hand the builds out in the order they were picked.
    rows.sort((a, b) => b.priority - a.priority || a.created_at - b.created_at || a.id - b.id);
    return createAttempts(trx, rows, options.agentId, now, now + options.leaseMs);
  });
}

/** A build row claimNextBuilds' UPDATE returned. */
interface PickedRow {
  readonly id: number;
  readonly uuid: string;
  readonly path: string;
  readonly timeout_s: number | null;
  readonly max_silent_time_s: number | null;
}

/** True when `db` runs on PostgreSQL. */
export function isPg(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Inserts one attempt per claimed build (one statement) and pairs them up. */
async function createAttempts(
  trx: Db,
  rows: readonly PickedRow[],
  agentId: string,
  now: number,
  lease: number,
): Promise<Claim[]> {
  if (rows.length === 0) return [];
  const attempts = await trx
    .insertInto('attempts')
    .values(
      rows.map((r) => ({
        uuid: uuidV7(now),
        build_id: r.id,
        agent_id: agentId,
        allocated_at: now,
        lease_expires_at: lease,
      })),
    )
    .returning(['id', 'uuid', 'build_id'])
    .execute();
  const attemptOf = new Map(attempts.map((a) => [a.build_id, a]));
  return rows.map((r) => toClaim(r, attemptOf.get(r.id)!, lease));
}

function toClaim(row: PickedRow, attempt: { id: number; uuid: string }, lease: number): Claim {
  return {
    buildId: row.uuid,
    attemptId: attempt.id,
    attemptUuid: attempt.uuid,
    derivationPath: row.path,
    leaseExpiresAt: lease,
    timeoutS: row.timeout_s,
    maxSilentTimeS: row.max_silent_time_s,
  };
}
