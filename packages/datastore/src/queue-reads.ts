// What the scheduler reads beyond the queue stream: the queue entries of
// named builds (refreshes after a change), the inputs a build's setup failures
// lacked that are still missing, and which queued builds produce derivations.
import { chunk } from './transaction.js';
import type { Db } from './transaction.js';
import { queueEntriesOf, selectQueueRows } from './queue-snapshot.js';
import type { QueueEntry } from './types.js';

/** A build as the datastore holds it now: its queue entry when queued, else just its state. */
export type BuildNow =
  | { readonly state: 'queued'; readonly entry: QueueEntry }
  | { readonly state: string; readonly entry?: undefined };

/** The current state (and queue entry, when queued) of each of `uuids` that exists. */
export async function readBuildsNow(db: Db, uuids: readonly string[]): Promise<Map<string, BuildNow>> {
  const out = new Map<string, BuildNow>();
  for (const part of chunk([...new Set(uuids)], 1)) {
    const rows = await selectQueueRows(db).select('b.state').where('b.uuid', 'in', part).execute();
    for (const r of rows) if (r.state !== 'queued') out.set(r.uuid, { state: r.state });
    const queued = rows.filter((r) => r.state === 'queued');
    if (queued.length === 0) continue;
    for (const entry of await queueEntriesOf(db, queued)) out.set(entry.id, { state: 'queued', entry });
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

/** Derivation path → UUID of its oldest queued build, for the derivations in `paths`. */
export async function queuedProducers(db: Db, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const part of chunk([...new Set(paths)], 1)) {
    const rows = await db
      .selectFrom('builds as b')
      .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
      .select(['b.uuid', 'd.path'])
      .where('d.path', 'in', part)
      .where('b.state', '=', 'queued')
      .orderBy('b.id')
      .execute();
    for (const r of rows) if (!out.has(r.path)) out.set(r.path, r.uuid);
  }
  return out;
}
