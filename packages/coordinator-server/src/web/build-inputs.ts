// A build's direct inputs for its page: each input derivation with the
// outputs it uses and that derivation's latest build (the same choice
// `GET /build/{uuid}` and `why` make, through input-status.ts).
import type { BuildState, Db } from '@gbc/datastore';
import { latestBuilds } from '../client-api/input-status.js';

/** One input derivation of a build. */
export interface BuildInput {
  readonly derivation: string;
  readonly outputs: readonly string[];
  readonly build: { readonly uuid: string; readonly state: BuildState } | null;
}

/** The input derivations of `derivationPath`, in path order. */
export async function buildInputs(db: Db, derivationPath: string): Promise<BuildInput[]> {
  const rows = await db
    .selectFrom('derivations as d')
    .innerJoin('derivation_inputs as i', 'i.derivation_id', 'd.id')
    .select(['i.input_path', 'i.output_name'])
    .where('d.path', '=', derivationPath)
    .execute();
  const outputs = new Map<string, string[]>();
  for (const r of rows) outputs.set(r.input_path, [...(outputs.get(r.input_path) ?? []), r.output_name]);
  const paths = [...outputs.keys()].sort();
  const builds = await latestBuilds(db, paths);
  return paths.map((derivation) => ({
    derivation,
    outputs: outputs.get(derivation)!.sort(),
    build: builds.get(derivation) ?? null,
  }));
}
