// Reads what the scheduler needs from the datastore beyond the datastore's
// own queue stream: queue entries of named builds (for refreshes after a
// change), the inputs a build's setup failures lacked that are still missing,
// and which queued builds produce given derivations.
import { sql } from 'kysely';
import type { Db, QueueEntry, Tag } from '@gbc/datastore';
import { chunk } from '@gbc/datastore';

/** A build as the datastore holds it now: its queue entry when queued, else just its state. */
export type BuildNow = { readonly state: 'queued'; readonly entry: QueueEntry } | { readonly state: string; readonly entry?: undefined };

/** The current state (and queue entry, when queued) of each of `uuids` that exists. */
export async function readBuildsNow(db: Db, uuids: readonly string[]): Promise<Map<string, BuildNow>> {
  const out = new Map<string, BuildNow>();
  for (const part of chunk([...new Set(uuids)], 1)) {
    const rows = await db
      .selectFrom('builds as b')
      .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
      .select(['b.id', 'b.uuid', 'b.state', 'd.path', 'b.system', 'b.priority', 'b.created_at', 'b.defer_until', 'b.blocked_by'])
      .where('b.uuid', 'in', part)
      .execute();
    const queued = rows.filter((r) => r.state === 'queued');
    for (const r of rows) if (r.state !== 'queued') out.set(r.uuid, { state: r.state });
    if (queued.length === 0) continue;
    const ids = queued.map((r) => r.id);
    const [tags, pending] = await Promise.all([tagsOf(db, ids), pendingInputDerivations(db, ids)]);
    for (const r of queued) {
      const entry: QueueEntry = {
        id: r.uuid, derivationPath: r.path, system: r.system, priority: r.priority, createdAt: r.created_at,
        deferUntil: r.defer_until, blockedBy: r.blocked_by, tags: tags.get(r.id) ?? [], pendingInputs: pending.get(r.id) ?? [],
      };
      out.set(r.uuid, { state: 'queued', entry });
    }
  }
  return out;
}

/**
 * For queued builds (all of them, or those of `uuids`): store paths listed by
 * their setup failures that the coordinator still does not hold. The build
 * waits for them to appear instead of failing again at once.
 */
export async function readSetupWaits(db: Db, uuids?: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const parts = uuids === undefined ? [undefined] : chunk([...new Set(uuids)], 1);
  for (const part of parts) {
    if (part !== undefined && part.length === 0) continue;
    const rows = await db
      .selectFrom('setup_failure_missing_inputs as mi')
      .innerJoin('setup_failures as sf', 'sf.id', 'mi.setup_failure_id')
      .innerJoin('builds as b', 'b.id', 'sf.build_id')
      .leftJoin('output_metadata as m', 'm.store_path', 'mi.path')
      .select(['b.uuid', 'mi.path'])
      .distinct()
      .where('b.state', '=', 'queued')
      .where('m.store_path', 'is', null)
      .$if(part !== undefined, (q) => q.where('b.uuid', 'in', part!))
      .execute();
    for (const r of rows) out.set(r.uuid, [...(out.get(r.uuid) ?? []), r.path]);
  }
  return out;
}

/** Derivation path → UUIDs of its queued builds, for the derivations in `paths`. */
export async function queuedProducers(db: Db, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const part of chunk([...new Set(paths)], 1)) {
    const rows = await db.selectFrom('builds as b').innerJoin('derivations as d', 'd.id', 'b.derivation_id').select(['b.uuid', 'd.path']).where('d.path', 'in', part).where('b.state', '=', 'queued').orderBy('b.id').execute();
    for (const r of rows) if (!out.has(r.path)) out.set(r.path, r.uuid);
  }
  return out;
}

async function tagsOf(db: Db, ids: readonly number[]): Promise<Map<number, Tag[]>> {
  const rows = await db.selectFrom('build_tags').select(['build_id', 'key', 'value']).where('build_id', 'in', ids).orderBy('key').execute();
  const out = new Map<number, Tag[]>();
  for (const r of rows) out.set(r.build_id, [...(out.get(r.build_id) ?? []), { key: r.key, value: r.value }]);
  return out;
}

/** Input derivations of builds `ids` with a used output the coordinator holds no metadata for. */
async function pendingInputDerivations(db: Db, ids: readonly number[]): Promise<Map<number, string[]>> {
  const result = await sql<{ build_id: number; input_path: string }>`
    select distinct b.id as build_id, i.input_path
    from builds b
    join derivation_inputs i on i.derivation_id = b.derivation_id
    left join derivations d2 on d2.path = i.input_path
    left join derivation_outputs o on o.derivation_id = d2.id and o.name = i.output_name
    left join output_metadata m on m.store_path = o.path
    where b.id in (${sql.join(ids)}) and m.store_path is null`.execute(db);
  const out = new Map<number, string[]>();
  for (const r of result.rows) out.set(Number(r.build_id), [...(out.get(Number(r.build_id)) ?? []), r.input_path]);
  return out;
}
