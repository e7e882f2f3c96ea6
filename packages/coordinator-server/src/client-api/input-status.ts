// The state of a derivation's direct inputs: which used outputs the
// coordinator lacks, and the latest build of each input derivation. Shared by
// `GET /build/{uuid}` (waitingFor, blockedBy) and `GET /build/{uuid}/why`.
import type { BuildState, Db } from '@gbc/datastore';

/** An input derivation with a used output the coordinator does not hold. */
export interface UnavailableInput {
  readonly derivation: string;
  /** The used outputs' store paths the coordinator lacks (the derivation itself when it is not held). */
  readonly paths: readonly string[];
  /** Its latest build (not canceled, if any such), or null when nobody builds it. */
  readonly build: { readonly uuid: string; readonly state: BuildState } | null;
}

/** Input derivations of `derivationPath` whose used outputs are not all held, in path order. */
export async function unavailableInputs(db: Db, derivationPath: string): Promise<UnavailableInput[]> {
  const rows = await db
    .selectFrom('derivations as d')
    .innerJoin('derivation_inputs as i', 'i.derivation_id', 'd.id')
    .leftJoin('derivation_outputs as o', (j) =>
      j.onRef('o.derivation_id', '=', 'i.input_id').onRef('o.name', '=', 'i.output_name'),
    )
    .leftJoin('output_metadata as m', 'm.store_path', 'o.path')
    .select(['i.input_path', 'o.path', 'm.store_path'])
    .where('d.path', '=', derivationPath)
    .execute();
  const lacking = new Map<string, string[]>();
  for (const r of rows)
    if (r.store_path === null)
      lacking.set(r.input_path, [...(lacking.get(r.input_path) ?? []), r.path ?? r.input_path]);
  const derivations = [...lacking.keys()].sort();
  const builds = await latestBuilds(db, derivations);
  return derivations.map((derivation) => ({
    derivation,
    paths: lacking.get(derivation)!,
    build: builds.get(derivation) ?? null,
  }));
}

/** The latest build of each of `derivationPaths`, preferring builds that were not canceled. */
export async function latestBuilds(
  db: Db,
  derivationPaths: readonly string[],
): Promise<Map<string, { uuid: string; state: BuildState }>> {
  const out = new Map<string, { uuid: string; state: BuildState }>();
  for (let i = 0; i < derivationPaths.length; i += 1000) {
    const rows = await db
      .selectFrom('builds as b')
      .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
      .select(['d.path', 'b.uuid', 'b.state'])
      .where('d.path', 'in', derivationPaths.slice(i, i + 1000))
      .orderBy('b.id')
      .execute();
    for (const r of rows) {
      const state = r.state as BuildState;
      const seen = out.get(r.path);
      // Later rows are newer; a canceled build replaces only another canceled one.
      if (seen === undefined || state !== 'canceled' || seen.state === 'canceled')
        out.set(r.path, { uuid: r.uuid, state });
    }
  }
  return out;
}

/** UUIDs of the failed builds of `derivationPath` (the dependency that blocks a build), newest first. */
export async function failedBuildsOf(db: Db, derivationPath: string): Promise<string[]> {
  const rows = await db
    .selectFrom('builds as b')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select('b.uuid')
    .where('d.path', '=', derivationPath)
    .where('b.state', '=', 'failed')
    .orderBy('b.id', 'desc')
    .limit(10)
    .execute();
  return rows.map((r) => r.uuid);
}
