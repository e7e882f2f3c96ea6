// Claims for many agents at once: the coordinator gathers the fetch-builds
// calls that arrive together and claims all their builds in one transaction
// (group commit), one statement on PostgreSQL and two on SQLite, so the cost
// of a commit is shared by every agent in the batch.
import { PostgresAdapter, sql } from 'kysely';
import type { Claim } from './attempts-claim.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { SqliteClaimWorker } from './sqlite-claim-worker.js';
import { uuidV7 } from './uuid-v7.js';

/** The builds one agent asks to claim. */
export interface ClaimRequest {
  readonly agentId: string;
  /** Build UUIDs picked for this agent. */
  readonly buildIds: readonly string[];
}

/** Options of {@link claimBuildsForAgents}. */
export interface ClaimManyOptions {
  /** Lease length in ms: each agent must report before it runs out. */
  readonly leaseMs: number;
  readonly now?: number;
  /** SQLite: claim on this worker thread instead of the calling one (not inside a transaction; not once it has failed). */
  readonly worker?: SqliteClaimWorker | undefined;
}

/** A build row the claim's UPDATE returned. */
interface ClaimedRow {
  readonly id: number;
  readonly uuid: string;
  readonly path: string;
  readonly timeout_s: number | null;
  readonly max_silent_time_s: number | null;
}

/** A claimed build with its new attempt. */
type ClaimedAttempt = ClaimedRow & { attempt_id: number; attempt_uuid: string };

/** Builds per batch at most: two bound parameters each on PostgreSQL. */
export const MAX_CLAIM_BATCH = 10_000;

/**
 * Claims, atomically, the builds each request names for its agent. Builds no
 * longer queued (taken by someone else, canceled, …) are left out; a build
 * named by two requests goes to the first. Returns one list per request, in
 * request order (the claims within a list in no particular order).
 */
export async function claimBuildsForAgents(db: Db, requests: readonly ClaimRequest[], options: ClaimManyOptions): Promise<Claim[][]> {
  const owner = new Map<string, number>();
  requests.forEach((r, i) => {
    for (const id of r.buildIds) if (!owner.has(id) && owner.size < MAX_CLAIM_BATCH) owner.set(id, i);
  });
  const agentOf = new Map([...owner].map(([id, i]) => [id, requests[i]!.agentId]));
  const out = requests.map((): Claim[] => []);
  if (agentOf.size === 0) return out;
  const now = options.now ?? Date.now();
  const lease = now + options.leaseMs;
  const rows = db.getExecutor().adapter instanceof PostgresAdapter
    ? await claimPostgres(db, agentOf, now, lease)
    : options.worker !== undefined && !options.worker.failed && !db.isTransaction
      ? await options.worker.claim([...agentOf].map(([uuid, agent]) => [uuid, agent, uuidV7(now)] as const), now, lease)
      : await claimSqlite(db, agentOf, now, lease);
  for (const row of rows) {
    const claim: Claim = { buildId: row.uuid, attemptId: row.attempt_id, attemptUuid: row.attempt_uuid, derivationPath: row.path, leaseExpiresAt: lease, timeoutS: row.timeout_s, maxSilentTimeS: row.max_silent_time_s };
    out[owner.get(row.uuid)!]!.push(claim);
  }
  return out;
}

// `state || ''` keeps SQLite on the UUID index: without statistics it would
// otherwise walk the (state, …) index, i.e. every queued build.
const RETURNED = sql`id, uuid, (select d.path from derivations d where d.id = builds.derivation_id) as path, timeout_s, max_silent_time_s`;

/** PostgreSQL: a concurrent claimer waits on the row lock, then finds the state changed. One statement. */
async function claimPostgres(db: Db, agentOf: ReadonlyMap<string, string>, now: number, lease: number): Promise<ClaimedAttempt[]> {
  const wanted = sql.join([...agentOf].map(([uuid, agent]) => sql`(${uuid}::text, ${agent}::text, ${uuidV7(now)}::text)`));
  const r = await sql<ClaimedAttempt>`
    with w(w_uuid, w_agent, w_attempt) as (values ${wanted}),
    c as (update builds set state = 'allocated' from w
          where builds.uuid = w.w_uuid and builds.state = 'queued'
          returning ${RETURNED}, w.w_agent, w.w_attempt),
    a as (insert into attempts (uuid, build_id, agent_id, allocated_at, lease_expires_at)
          select w_attempt, id, w_agent, ${now}, ${lease} from c returning id, uuid, build_id)
    select c.id, c.uuid, c.path, c.timeout_s, c.max_silent_time_s, a.id as attempt_id, a.uuid as attempt_uuid from c join a on a.build_id = c.id`.execute(db);
  return r.rows;
}

/** SQLite: the transaction holds the single write lock (BEGIN IMMEDIATE). Two statements. */
async function claimSqlite(db: Db, agentOf: ReadonlyMap<string, string>, now: number, lease: number): Promise<ClaimedAttempt[]> {
  return inTransaction(db, async (trx) => {
    const rows = (await sql<ClaimedRow>`update builds set state = 'allocated'
      where uuid in (${sql.join([...agentOf.keys()])}) and state || '' = 'queued'
      returning ${RETURNED}`.execute(trx)).rows;
    if (rows.length === 0) return [];
    const attempts = await trx
      .insertInto('attempts')
      .values(rows.map((r) => ({ uuid: uuidV7(now), build_id: r.id, agent_id: agentOf.get(r.uuid)!, allocated_at: now, lease_expires_at: lease })))
      .returning(['id', 'uuid', 'build_id'])
      .execute();
    const attemptOf = new Map(attempts.map((a) => [a.build_id, a]));
    // Fields named one by one: a spread of the driver's row objects was measured
    // to send every claimed row to V8's old generation (megabytes a second under
    // load, and with them the full collections that stall the event loop).
    return rows.map((r) => {
      const attempt = attemptOf.get(r.id)!;
      return { id: r.id, uuid: r.uuid, path: r.path, timeout_s: r.timeout_s, max_silent_time_s: r.max_silent_time_s, attempt_id: attempt.id, attempt_uuid: attempt.uuid };
    });
  });
}
