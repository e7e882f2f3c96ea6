// Claims builds for an agent atomically: each claimed build becomes `allocated`
// with a new attempt holding a lease. A build is never given to two claimers.
import { PostgresAdapter } from 'kysely';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';

/** One build handed to an agent. */
export interface Claim {
  /** The build's UUID. */
  readonly buildId: string;
  readonly attemptId: number;
  readonly derivationPath: string;
  readonly leaseExpiresAt: number;
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
 * are left out: the result lists only what this call got.
 */
export async function claimBuildsById(db: Db, buildIds: readonly string[], options: ClaimOptions): Promise<Claim[]> {
  if (buildIds.length === 0) return [];
  return inTransaction(db, async (trx) => {
    // The conditional UPDATE is the claim: on PostgreSQL a concurrent claimer
    // waits on the row lock and then finds the state changed; on SQLite the
    // transaction already holds the single write lock.
    const rows = await trx
      .updateTable('builds')
      .set({ state: 'allocated' })
      .where('uuid', 'in', [...new Set(buildIds)].slice(0, 10_000))
      .where('state', '=', 'queued')
      .returning(['id', 'uuid', 'derivation_id'])
      .execute();
    return createAttempts(trx, rows, options);
  });
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
      .returning(['id', 'uuid', 'derivation_id', 'priority', 'created_at'])
      .execute();
    // RETURNING gives no order: hand the builds out in the order they were picked.
    rows.sort((a, b) => b.priority - a.priority || a.created_at - b.created_at || a.id - b.id);
    return createAttempts(trx, rows, { ...options, now });
  });
}

/** True when `db` runs on PostgreSQL. */
export function isPg(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

async function createAttempts(trx: Db, rows: readonly { id: number; uuid: string; derivation_id: number }[], options: ClaimOptions): Promise<Claim[]> {
  if (rows.length === 0) return [];
  const now = options.now ?? Date.now();
  const leaseExpiresAt = now + options.leaseMs;
  const attempts = await trx
    .insertInto('attempts')
    .values(rows.map((r) => ({ build_id: r.id, agent_id: options.agentId, allocated_at: now, lease_expires_at: leaseExpiresAt })))
    .returning(['id', 'build_id'])
    .execute();
  const attemptOf = new Map(attempts.map((a) => [a.build_id, a.id]));
  const drvs = await trx.selectFrom('derivations').select(['id', 'path']).where('id', 'in', [...new Set(rows.map((r) => r.derivation_id))]).execute();
  const pathOf = new Map(drvs.map((d) => [d.id, d.path]));
  return rows.map((r) => ({ buildId: r.uuid, attemptId: attemptOf.get(r.id)!, derivationPath: pathOf.get(r.derivation_id)!, leaseExpiresAt }));
}
