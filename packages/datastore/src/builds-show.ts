// Shows one build with its attempts, setup failures, outputs and output metadata.
import { selectBuilds, toBuild, tagsOf } from './build-rows.js';
import { outputMetadataFor } from './outputs.js';
import { attemptColumns, toAttempt } from './attempt-rows.js';
import type { Db } from './transaction.js';
import type { Build, BuildDetails, SetupFailure } from './types.js';

/** The build with UUID `id`, without details, or undefined. */
export async function getBuild(db: Db, id: string): Promise<Build | undefined> {
  const row = await selectBuilds(db).where('b.uuid', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  return toBuild(row, (await tagsOf(db, [row.id])).get(row.id) ?? []);
}

/** The build with UUID `id` and everything known about it, or undefined. */
export async function showBuild(db: Db, id: string): Promise<BuildDetails | undefined> {
  const row = await selectBuilds(db).select('b.derivation_id').where('b.uuid', '=', id).executeTakeFirst();
  if (row === undefined) return undefined;
  const [tags, attempts, failures, outputs] = await Promise.all([
    tagsOf(db, [row.id]),
    db
      .selectFrom('attempts as a')
      .innerJoin('builds as b', 'b.id', 'a.build_id')
      .select(attemptColumns)
      .where('a.build_id', '=', row.id)
      .orderBy('a.id')
      .execute(),
    db
      .selectFrom('setup_failures as f')
      .leftJoin('setup_failure_missing_inputs as m', 'm.setup_failure_id', 'f.id')
      .select(['f.id', 'f.attempt_id', 'f.created_at', 'm.path'])
      .where('f.build_id', '=', row.id)
      .orderBy('f.id')
      .orderBy('m.path')
      .execute(),
    db
      .selectFrom('derivation_outputs')
      .selectAll()
      .where('derivation_id', '=', row.derivation_id)
      .orderBy('name')
      .execute(),
  ]);
  const setupFailures = new Map<number, SetupFailure & { missingInputs: string[] }>();
  for (const f of failures) {
    const entry = setupFailures.get(f.id) ?? {
      id: f.id,
      attemptId: f.attempt_id,
      buildId: id,
      createdAt: f.created_at,
      missingInputs: [],
    };
    if (f.path !== null) entry.missingInputs.push(f.path);
    setupFailures.set(f.id, entry);
  }
  return {
    ...toBuild(row, tags.get(row.id) ?? []),
    attempts: attempts.map(toAttempt),
    setupFailures: [...setupFailures.values()],
    outputs: outputs.map((o) => ({ name: o.name, path: o.path, hashAlgo: o.hash_algo, hash: o.hash })),
    outputMetadata: await outputMetadataFor(
      db,
      outputs.map((o) => o.path),
    ),
  };
}
