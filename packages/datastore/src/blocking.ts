// Blocked-by-failed-dependency: when a derivation's build fails, every queued
// build that depends on it (directly or not) is marked blocked; a later
// success of that derivation unblocks them.
import { sql } from 'kysely';
import type { Db } from './transaction.js';

/**
 * Marks queued, unblocked builds of every derivation that (transitively)
 * depends on `derivationPath` as blocked by it.
 * @returns UUIDs of the builds newly blocked.
 */
export async function markDependentsBlocked(db: Db, derivationPath: string): Promise<string[]> {
  const dependents = await dependentDerivationIds(db, derivationPath);
  if (dependents.length === 0) return [];
  const rows = await db
    .updateTable('builds')
    .set({ blocked_by: derivationPath })
    .where('derivation_id', 'in', dependents)
    .where('state', '=', 'queued')
    .where('blocked_by', 'is', null)
    .returning('uuid')
    .execute();
  return rows.map((r) => r.uuid);
}

/**
 * Clears the block of every build blocked by `derivationPath`.
 * @returns UUIDs of the builds unblocked.
 */
export async function unblockDependents(db: Db, derivationPath: string): Promise<string[]> {
  const rows = await db
    .updateTable('builds')
    .set({ blocked_by: null })
    .where('blocked_by', '=', derivationPath)
    .returning('uuid')
    .execute();
  return rows.map((r) => r.uuid);
}

/**
 * The failed derivation (path) that should block a new build of `derivationPath`:
 * an input (transitively) whose latest finished build failed and that has no
 * success since; null if none.
 */
export async function failedDependencyOf(db: Db, derivationPath: string): Promise<string | null> {
  const result = await sql<{ path: string }>`
    with recursive deps(id) as (
      select i.input_id from derivation_input_edges i join derivations d on d.id = i.derivation_id where d.path = ${derivationPath}
      union
      select i.input_id from deps join derivation_input_edges i on i.derivation_id = deps.id
    )
    select d.path from deps
    join derivations d on d.id = deps.id
    where exists (select 1 from builds b where b.derivation_id = d.id and b.state = 'failed')
      and not exists (select 1 from builds b where b.derivation_id = d.id and b.state = 'succeeded')
    limit 1`.execute(db);
  return result.rows[0]?.path ?? null;
}

async function dependentDerivationIds(db: Db, derivationPath: string): Promise<number[]> {
  const result = await sql<{ id: number }>`
    with recursive dependents(id) as (
      select i.derivation_id from derivation_input_edges i join derivations d on d.id = i.input_id where d.path = ${derivationPath}
      union
      select i.derivation_id from dependents p join derivation_input_edges i on i.input_id = p.id
    )
    select id from dependents`.execute(db);
  return result.rows.map((r) => Number(r.id));
}
