// Reads what retention decides about from the datastore: stored outputs (with
// their references, file sizes and age), sealed logs of ended attempts, and
// the store paths that unfinished builds need as inputs.
import type { Db } from '@gbc/datastore';
import type { RetainedLog, RetainedOutput } from './plan.js';

const UNFINISHED = ['queued', 'allocated', 'started'];

/** A stored output and the storage keys of its files. */
export interface LoadedOutput extends RetainedOutput {
  /** Storage keys (`nar` area) of its files. */
  readonly locations: readonly string[];
}

/** Every stored output; its age is the end of the build that last recorded it, or its upload time. */
export async function loadOutputs(db: Db): Promise<LoadedOutput[]> {
  const rows = await db
    .selectFrom('output_metadata as m')
    .leftJoin('builds as b', 'b.id', 'm.build_id')
    .select(['m.store_path', 'm.references', 'm.created_at', 'b.ended_at'])
    .execute();
  const files = await db.selectFrom('output_files').select(['store_path', 'file_size', 'location']).execute();
  const byPath = new Map<string, { bytes: number; locations: string[] }>();
  for (const f of files) {
    const entry = byPath.get(f.store_path) ?? { bytes: 0, locations: [] };
    entry.bytes += Number(f.file_size);
    if (f.location !== null) entry.locations.push(f.location);
    byPath.set(f.store_path, entry);
  }
  return rows.map((r) => {
    const stored = byPath.get(r.store_path) ?? { bytes: 0, locations: [] };
    return {
      storePath: r.store_path,
      references: JSON.parse(r.references) as string[],
      bytes: stored.bytes,
      keptSince: Math.max(Number(r.created_at), r.ended_at === null ? 0 : Number(r.ended_at)),
      locations: stored.locations,
    };
  });
}

/** Sealed logs of ended attempts. */
export async function loadLogs(db: Db): Promise<RetainedLog[]> {
  const rows = await db
    .selectFrom('attempts')
    .select(['id', 'log_location', 'ended_at'])
    .where('log_location', 'is not', null)
    .where('ended_at', 'is not', null)
    .execute();
  return rows.map((r) => ({ attemptId: r.id, key: r.log_location as string, endedAt: Number(r.ended_at) }));
}

/** Store paths that queued, allocated or started builds need: input sources and the used outputs of input derivations. */
export async function loadNeededPaths(db: Db): Promise<Set<string>> {
  const sources = await db
    .selectFrom('builds as b')
    .innerJoin('derivation_sources as s', 's.derivation_id', 'b.derivation_id')
    .select('s.path')
    .where('b.state', 'in', UNFINISHED)
    .distinct()
    .execute();
  const outputs = await db
    .selectFrom('builds as b')
    .innerJoin('derivation_inputs as i', 'i.derivation_id', 'b.derivation_id')
    .innerJoin('derivation_outputs as o', (j) =>
      j.onRef('o.derivation_id', '=', 'i.input_id').onRef('o.name', '=', 'i.output_name'),
    )
    .select('o.path')
    .where('b.state', 'in', UNFINISHED)
    .distinct()
    .execute();
  return new Set([...sources.map((s) => s.path), ...outputs.map((o) => o.path)]);
}

/** Storage keys of every stored file the datastore names (NARs) and every log location. */
export async function loadReferencedKeys(db: Db): Promise<{ nars: Set<string>; logs: Set<string> }> {
  const nars = await db
    .selectFrom('output_files')
    .select('location')
    .where('location', 'is not', null)
    .execute();
  const logs = await db
    .selectFrom('attempts')
    .select('log_location')
    .where('log_location', 'is not', null)
    .execute();
  return {
    nars: new Set(nars.map((n) => n.location as string)),
    logs: new Set(logs.map((l) => l.log_location as string)),
  };
}
