// Build routes of the client API: list (filters, keyset pages), show, why,
// update priority. Cancels are in cancel-routes.ts, the log in log-route.ts.
import { getBuild, listBuilds, showBuild, updateBuildPriority } from '@gbc/datastore';
import type { BuildFilter } from '@gbc/datastore';
import { buildRoutes } from '@gbc/protocol';
import type { ListBuildsQuery } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { HttpError, notFound } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import { holdingAgents, toBuildDetailView, toBuildView } from './build-view.js';
import { failedBuildsOf, unavailableInputs } from './input-status.js';
import { explainBuild } from './why.js';

/** Mounts list, show, why and update-priority on `app`. */
export function mountBuildRoutes(app: Hono<{ Variables: object }>, ctx: CoordinatorContext): void {
  const db = ctx.datastore.db;

  mountRoute(app, buildRoutes.listBuilds, async (c, { query }) => {
    const page = await listBuilds(db, toFilter(query));
    const agents = await holdingAgents(
      db,
      page.builds.filter((b) => b.state === 'allocated' || b.state === 'started').map((b) => b.id),
    );
    // Filters the datastore does not index are applied to the page: a page may then hold fewer than `limit` builds.
    const builds = page.builds
      .filter((b) => query.blocked === undefined || (b.blockedBy !== null) === query.blocked)
      .filter((b) => query.agent === undefined || agents.get(b.id) === query.agent.toLowerCase())
      .map((b) => toBuildView(b, agents.get(b.id) ?? null));
    return c.json({ builds, nextCursor: page.nextCursor });
  });

  mountRoute(app, buildRoutes.getBuild, async (c, { params }) => {
    const detail = await showBuild(db, params.uuid.toLowerCase());
    if (detail === undefined) throw notFound('build', params.uuid.toLowerCase());
    const waiting = (await unavailableInputs(db, detail.derivationPath)).filter(
      (i) => i.build !== null && ['queued', 'allocated', 'started'].includes(i.build.state),
    );
    const blockedBy = detail.blockedBy === null ? [] : await failedBuildsOf(db, detail.blockedBy);
    return c.json(
      toBuildDetailView(
        detail,
        waiting.map((i) => i.build!.uuid),
        blockedBy,
      ),
    );
  });

  mountRoute(app, buildRoutes.whyBuild, async (c, { params }) =>
    c.json(await explainBuild(db, params.uuid.toLowerCase(), ctx.clock.now())),
  );

  mountRoute(
    app,
    buildRoutes.updatePriority,
    async (c, { params, body }) => {
      const build = await getBuild(db, params.uuid.toLowerCase());
      if (build === undefined) throw notFound('build', params.uuid.toLowerCase());
      if (!['queued', 'allocated', 'started'].includes(build.state)) {
        throw new HttpError(
          'conflict',
          `build ${params.uuid.toLowerCase()} is ${build.state}: the priority of a finished build cannot change`,
        );
      }
      await updateBuildPriority(db, params.uuid.toLowerCase(), body.priority);
      await ctx.scheduler.notifyPriorityChanged(params.uuid.toLowerCase(), body.priority);
      ctx.events.publish({
        type: 'build-priority-changed',
        build: params.uuid.toLowerCase(),
        derivation: build.derivationPath,
        state: build.state,
        data: { priority: body.priority, previous: build.priority },
      });
      const after = (await getBuild(db, params.uuid.toLowerCase()))!;
      const agents = await holdingAgents(db, [after.id]);
      return c.json(toBuildView(after, agents.get(after.id) ?? null));
    },
    { jsonBodyBytes: ctx.config.jsonBodyBytes },
  );
}

function toFilter(q: ListBuildsQuery): BuildFilter {
  // Only allocated and started builds are held by an agent: ask the datastore for those alone.
  const held = ['allocated', 'started'] as const;
  const states =
    q.agent === undefined
      ? q.state
      : q.state.length === 0
        ? [...held]
        : q.state.filter((s) => (held as readonly string[]).includes(s));
  return {
    states: q.agent !== undefined && states.length === 0 ? ['allocated'] : states,
    systems: q.system === undefined ? undefined : [q.system],
    derivationPath: q.derivation,
    tags: q.tag.map((t) => {
      const at = t.indexOf('=');
      return { key: t.slice(0, at), value: t.slice(at + 1) };
    }),
    createdAfter: q.createdAfter === undefined ? undefined : Date.parse(q.createdAfter),
    createdBefore: q.createdBefore === undefined ? undefined : Date.parse(q.createdBefore),
    priorityMin: q.priorityMin,
    priorityMax: q.priorityMax,
    limit: q.limit,
    after: q.cursor ?? null,
  };
}
