// Claims for many agents at once: the coordinator gathers the fetch-builds
// calls that arrive together and claims all their builds in one transaction
// (group commit), one statement on PostgreSQL and two on SQLite, so the cost
// of a commit is shared by every agent in the batch.
import { CompiledQuery, PostgresAdapter } from 'kysely';
import type { Claim } from './attempts-claim.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import { uuidV7 } from './uuid-v7.js';

/** One build to claim: its UUID, the agent taking it, the new attempt's UUID. */
export type ClaimItem = readonly [buildUuid: string, agentId: string, attemptUuid: string];

/**
 * Runs claims beside the Kysely handle, where they cost less: on SQLite a
 * worker thread with its own connection (sqlite-claim-worker.ts), on
 * PostgreSQL a prepared statement whose plan each pooled session keeps
 * (postgres-claims.ts). Both run exactly the statements of the claim made
 * through the handle.
 */
export interface ClaimRunner {
  /** Claims the queued builds among `items` in one transaction; builds no longer queued are left out. */
  claim(items: readonly ClaimItem[], now: number, lease: number): Promise<ClaimedAttempt[]>;
  /** True once the runner has failed for good: callers then claim through the handle. */
  readonly failed: boolean;
  /** Ends the runner after the claims in flight. */
  stop(): Promise<void>;
}

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
  /** Claim through this runner instead of the handle (not inside a transaction; not once it has failed). */
  readonly runner?: ClaimRunner | undefined;
}

/** A build row the claim's UPDATE returned. */
interface ClaimedRow {
  readonly id: number;
  readonly uuid: string;
  readonly path: string;
  readonly timeout_s: number | null;
  readonly max_silent_time_s: number | null;
}

/** A claimed build with its new attempt (also what the claim worker answers). */
export type ClaimedAttempt = ClaimedRow & { attempt_id: number; attempt_uuid: string };

/**
 * Builds per batch at most (the rest stay queued for the next batch): SQLite's
 * attempts insert binds five parameters per build, 30,000 of the 32,766 a
 * statement may have (PostgreSQL binds three of its 65,535).
 */
export const MAX_CLAIM_BATCH = 6_000;

/**
 * Claims, atomically, the builds each request names for its agent. Builds no
 * longer queued (taken by someone else, canceled, …) are left out; a build
 * named by two requests goes to the first. Returns one list per request, in
 * request order (the claims within a list in no particular order).
 */
export async function claimBuildsForAgents(
  db: Db,
  requests: readonly ClaimRequest[],
  options: ClaimManyOptions,
): Promise<Claim[][]> {
  const owner = new Map<string, number>();
  requests.forEach((r, i) => {
    for (const id of r.buildIds) if (!owner.has(id) && owner.size < MAX_CLAIM_BATCH) owner.set(id, i);
  });
  const agentOf = new Map([...owner].map(([id, i]) => [id, requests[i]!.agentId]));
  const out = requests.map((): Claim[] => []);
  if (agentOf.size === 0) return out;
  const now = options.now ?? Date.now();
  const lease = now + options.leaseMs;
  const items: ClaimItem[] = [...agentOf].map(([uuid, agent]) => [uuid, agent, uuidV7(now)]);
  const runner =
    options.runner !== undefined && !options.runner.failed && !db.isTransaction ? options.runner : undefined;
  const rows =
    runner !== undefined
      ? await runner.claim(items, now, lease)
      : db.getExecutor().adapter instanceof PostgresAdapter
        ? await claimPostgres(db, items, now, lease)
        : await claimSqlite(db, items, now, lease);
  for (const row of rows) {
    const claim: Claim = {
      buildId: row.uuid,
      attemptId: row.attempt_id,
      attemptUuid: row.attempt_uuid,
      derivationPath: row.path,
      leaseExpiresAt: lease,
      timeoutS: row.timeout_s,
      maxSilentTimeS: row.max_silent_time_s,
    };
    out[owner.get(row.uuid)!]!.push(claim);
  }
  return out;
}

/** The columns a claim returns of each claimed build. */
const RETURNED =
  'id, uuid, (select d.path from derivations d where d.id = builds.derivation_id) as path, timeout_s, max_silent_time_s';

/**
 * The SQLite claim's two statements as head, the placeholders of one row, and
 * tail: the same text runs here and on the claim worker (sqlite-claim-worker.ts).
 * `state || ''` keeps SQLite on the UUID index: without statistics it would
 * otherwise walk the (state, …) index, i.e. every queued build.
 */
export const SQLITE_CLAIM_SQL = {
  update: [
    "update builds set state = 'allocated' where uuid in (",
    '?',
    `) and state || '' = 'queued' returning ${RETURNED}`,
  ],
  insert: [
    'insert into attempts (uuid, build_id, agent_id, allocated_at, lease_expires_at) values ',
    '(?, ?, ?, ?, ?)',
    ' returning id, uuid, build_id',
  ],
} as const;

/** A statement of {@link SQLITE_CLAIM_SQL} for `n` rows. */
function sqliteClaimText([head, row, tail]: readonly [string, string, string], n: number): string {
  return head + new Array<string>(n).fill(row).join(', ') + tail;
}

/**
 * The PostgreSQL claim: one statement, its text the same for any number of
 * builds (they come as three arrays), so that a prepared statement of it is
 * planned once per session. A concurrent claimer waits on the row lock, then
 * finds the state changed. Parameters: build UUIDs, agent ids, attempt UUIDs
 * (text[]), the time and the lease's end (ms).
 */
export const POSTGRES_CLAIM_SQL = `with w(w_uuid, w_agent, w_attempt) as (select * from unnest($1::text[], $2::text[], $3::text[])),
c as (update builds set state = 'allocated' from w
      where builds.uuid = w.w_uuid and builds.state = 'queued'
      returning ${RETURNED}, w.w_agent, w.w_attempt),
a as (insert into attempts (uuid, build_id, agent_id, allocated_at, lease_expires_at)
      select w_attempt, id, w_agent, $4::bigint, $5::bigint from c returning id, uuid, build_id)
select c.id, c.uuid, c.path, c.timeout_s, c.max_silent_time_s, a.id as attempt_id, a.uuid as attempt_uuid
from c join a on a.build_id = c.id`;

/** The parameters of {@link POSTGRES_CLAIM_SQL}. */
export function postgresClaimParameters(items: readonly ClaimItem[], now: number, lease: number): unknown[] {
  return [items.map((i) => i[0]), items.map((i) => i[1]), items.map((i) => i[2]), now, lease];
}

/** PostgreSQL through the handle (in a transaction, or without a runner). */
async function claimPostgres(
  db: Db,
  items: readonly ClaimItem[],
  now: number,
  lease: number,
): Promise<ClaimedAttempt[]> {
  const query = CompiledQuery.raw(POSTGRES_CLAIM_SQL, postgresClaimParameters(items, now, lease));
  return [...(await db.executeQuery<ClaimedAttempt>(query)).rows];
}

/** SQLite: the transaction holds the single write lock (BEGIN IMMEDIATE). Two statements. */
async function claimSqlite(
  db: Db,
  items: readonly ClaimItem[],
  now: number,
  lease: number,
): Promise<ClaimedAttempt[]> {
  return inTransaction(db, async (trx) => {
    const update = CompiledQuery.raw(
      sqliteClaimText(SQLITE_CLAIM_SQL.update, items.length),
      items.map((i) => i[0]),
    ) as CompiledQuery<ClaimedRow>;
    const rows = (await trx.executeQuery(update)).rows;
    if (rows.length === 0) return [];
    const itemOf = new Map(items.map((i) => [i[0], i]));
    const values: unknown[] = [];
    for (const r of rows) {
      const [, agent, attempt] = itemOf.get(r.uuid)!;
      values.push(attempt, r.id, agent, now, lease);
    }
    const insert = CompiledQuery.raw(
      sqliteClaimText(SQLITE_CLAIM_SQL.insert, rows.length),
      values,
    ) as CompiledQuery<{ id: number; uuid: string; build_id: number }>;
    const attemptOf = new Map((await trx.executeQuery(insert)).rows.map((a) => [a.build_id, a]));
    // Fields named one by one: a spread of the driver's row objects was measured
    // to send every claimed row to V8's old generation (megabytes a second under
    // load, and with them the full collections that stall the event loop).
    return rows.map((r) => {
      const attempt = attemptOf.get(r.id)!;
      return {
        id: r.id,
        uuid: r.uuid,
        path: r.path,
        timeout_s: r.timeout_s,
        max_silent_time_s: r.max_silent_time_s,
        attempt_id: attempt.id,
        attempt_uuid: attempt.uuid,
      };
    });
  });
}
