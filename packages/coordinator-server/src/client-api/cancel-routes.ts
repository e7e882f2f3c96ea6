// Cancel routes of the client API: one build, or every unfinished build with
// all the given tags. The datastore change and the build-canceled hook events
// share one transaction; then the scheduler drops the builds and the live
// stream hears of them. A started build's agent learns it from its next status report.
import { StateConflictError, cancelBuild, enqueueEvents, listBuilds } from '@gbc/datastore';
import type { CanceledBuild, Db } from '@gbc/datastore';
import { buildRoutes } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { mountRoute } from '../http/validate.js';

/** Mounts `POST /build/{uuid}/cancel` and `POST /builds/cancel` on `app`. */
export function mountCancelRoutes(app: Hono<{ Variables: object }>, ctx: CoordinatorContext): void {
  const jsonBodyBytes = ctx.config.jsonBodyBytes;

  mountRoute(
    app,
    buildRoutes.cancelBuild,
    async (c, { params, body }) => {
      try {
        const canceled = await cancelAll(ctx, () => Promise.resolve([params.uuid.toLowerCase()]));
        return c.json({ canceled });
      } catch (error) {
        if (body.ignoreIfFinished && error instanceof StateConflictError) return c.json({ canceled: [] });
        throw error;
      }
    },
    { jsonBodyBytes },
  );

  mountRoute(
    app,
    buildRoutes.cancelBuilds,
    async (c, { body }) => {
      const canceled = await cancelAll(ctx, (trx) => buildsWithTags(trx, body.tags, body.states), true);
      return c.json({ canceled });
    },
    { jsonBodyBytes },
  );
}

/** Cancels the builds `select` names in one transaction; `skipFinished` ignores those that ended meanwhile. */
async function cancelAll(
  ctx: CoordinatorContext,
  select: (trx: Db) => Promise<string[]>,
  skipFinished = false,
): Promise<string[]> {
  const now = ctx.clock.now();
  const done = await ctx.datastore.transaction(async (trx) => {
    const out: { build: CanceledBuild; derivation: string }[] = [];
    for (const id of await select(trx)) {
      try {
        const build = await cancelBuild(trx, id, now);
        const row = await trx
          .selectFrom('builds as b')
          .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
          .select('d.path')
          .where('b.uuid', '=', id)
          .executeTakeFirstOrThrow();
        out.push({ build, derivation: row.path });
      } catch (error) {
        if (!(skipFinished && error instanceof StateConflictError)) throw error;
      }
    }
    await enqueueEvents(
      trx,
      out.map(({ build, derivation }) => ({
        eventType: 'build-canceled',
        payload: {
          build: build.id,
          derivation,
          previousState: build.previousState,
          agent: build.runningAttempt?.agentId ?? null,
        },
      })),
      now,
    );
    return out;
  });
  if (done.length > 0) ctx.scheduler.notifyBuildsCanceled(done.map((d) => d.build.id));
  for (const { build, derivation } of done) {
    ctx.events.publish({
      type: 'build-canceled',
      build: build.id,
      derivation,
      state: 'canceled',
      ...(build.runningAttempt === null ? {} : { agent: build.runningAttempt.agentId }),
      data: { previousState: build.previousState },
    });
  }
  return done.map((d) => d.build.id);
}

/** UUIDs of the builds in `states` carrying every one of `tags`. */
async function buildsWithTags(
  db: Db,
  tags: readonly { key: string; value: string }[],
  states: readonly ('queued' | 'allocated' | 'started')[],
): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const page = await listBuilds(db, { tags, states, limit: 1000, after });
    ids.push(...page.builds.map((b) => b.id));
    after = page.nextCursor;
  } while (after !== null);
  return ids;
}
