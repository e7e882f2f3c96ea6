// `POST /builds`: create a build (and, when asked, builds of the input
// derivations nobody has built or stored), mark it blocked if a dependency
// failed, and enqueue the build-submitted events, all in one transaction;
// then wake the scheduler and publish the live events.
import {
  createBuilds,
  enqueueEvents,
  failedDependencyOf,
  getBuild,
  markDependentsBlocked,
} from '@gbc/datastore';
import type { BuildRequest, CreatedBuild, Db } from '@gbc/datastore';
import type { SubmitBuildRequest, SubmitBuildResponse } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';

/** Creates the build `request` asks for; see the file header. */
export async function submitBuild(
  ctx: CoordinatorContext,
  request: SubmitBuildRequest,
): Promise<SubmitBuildResponse> {
  const now = ctx.clock.now();
  const common = {
    priority: request.priority,
    tags: request.tags,
    deferUntil: request.deferUntil === undefined ? null : Date.parse(request.deferUntil),
    timeout: request.timeoutSeconds ?? null,
    maxSilentTime: request.maxSilentTimeSeconds ?? null,
  };
  const created = await ctx.datastore.transaction(async (trx) => {
    const main: BuildRequest = {
      ...common,
      derivationPath: request.derivation,
      ignoreIfBuildForDerivationExists: request.ignoreIfBuildForDerivationExists,
      ignoreIfBuildForOutputsExists: request.ignoreIfBuildForOutputsExists,
    };
    const related = request.ensureAllRelatedDerivationOutputsHaveSuccessfulBuilds
      ? await unbuiltInputs(trx, request.derivation)
      : [];
    const results = await createBuilds(
      trx,
      [
        main,
        ...related.map((derivationPath) => ({
          ...common,
          derivationPath,
          ignoreIfBuildForOutputsExists: true,
        })),
      ],
      now,
    );
    const fresh = results.filter((r) => r.created);
    // Related builds are in the main derivation's closure: when nothing there failed, nothing blocks them either.
    const anyFailed = fresh.length > 0 && (await failedDependencyOf(trx, request.derivation)) !== null;
    for (const b of anyFailed ? fresh : []) {
      const failed = await failedDependencyOf(trx, b.derivationPath);
      if (failed !== null) await markDependentsBlocked(trx, failed);
    }
    await enqueueEvents(
      trx,
      fresh.map((b) => ({
        eventType: 'build-submitted',
        payload: {
          build: b.id,
          derivation: b.derivationPath,
          priority: request.priority,
          tags: request.tags,
        },
      })),
      now,
    );
    return results;
  });
  const fresh = created.filter((r) => r.created);
  if (fresh.length > 0) await ctx.scheduler.notifyBuildsCreated(fresh.map((b) => b.id));
  for (const b of fresh)
    ctx.events.publish({
      type: 'build-submitted',
      build: b.id,
      derivation: b.derivationPath,
      state: 'queued',
      data: { priority: request.priority },
    });
  const [main, ...related] = created;
  if (main === undefined) throw new Error('createBuilds returned no build for the request');
  return {
    uuid: main.id,
    created: main.created,
    ...(main.created ? {} : { reason: await skipReason(ctx.datastore.db, main, request.derivation) }),
    relatedBuilds: related.filter((r) => r.created).map((r) => r.id),
  };
}

/** Why no build was created: the existing build is of this derivation, or of another with the same outputs. */
async function skipReason(
  db: Db,
  existing: CreatedBuild,
  derivation: string,
): Promise<'build-for-derivation-exists' | 'build-for-outputs-exists'> {
  const build = await getBuild(db, existing.id);
  return build?.derivationPath === derivation ? 'build-for-derivation-exists' : 'build-for-outputs-exists';
}

/**
 * Derivations in the closure of `derivationPath`'s inputs (the coordinator
 * holds them) with an output the coordinator does not hold and no build that
 * is queued, running or succeeded: those a build must be submitted for.
 */
export async function unbuiltInputs(db: Db, derivationPath: string): Promise<string[]> {
  const rows = await db
    .withRecursive('deps(path)', (qb) =>
      qb
        .selectFrom('derivation_inputs as i')
        .innerJoin('derivations as d', 'd.id', 'i.derivation_id')
        .select('i.input_path as path')
        .where('d.path', '=', derivationPath)
        .union(
          qb
            .selectFrom('derivation_inputs as i')
            .innerJoin('derivations as d', 'd.id', 'i.derivation_id')
            .innerJoin('deps', 'deps.path', 'd.path')
            .select('i.input_path as path'),
        ),
    )
    .selectFrom('deps')
    .innerJoin('derivations as d', 'd.path', 'deps.path')
    .select('d.path')
    .where((eb) =>
      eb
        .exists(
          eb
            .selectFrom('derivation_outputs as o')
            .leftJoin('output_metadata as m', 'm.store_path', 'o.path')
            .select('o.path')
            .whereRef('o.derivation_id', '=', 'd.id')
            .where('m.store_path', 'is', null),
        )
        .and(
          eb.not(
            eb.exists(
              eb
                .selectFrom('builds as b')
                .select('b.id')
                .whereRef('b.derivation_id', '=', 'd.id')
                .where('b.state', 'in', ['queued', 'allocated', 'started', 'succeeded']),
            ),
          ),
        ),
    )
    .orderBy('d.path')
    .execute();
  return rows.map((r) => r.path);
}
