// Operator routes of the client API: the allocation plan, the OpenAPI
// document and a build's log. (Client tokens and retention belong to a later
// issue and are not mounted: they answer 404.)
import { Readable } from 'node:stream';
import { showBuild } from '@gbc/datastore';
import { adminRoutes, buildRoutes, createOpenApiDocument } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { notFound } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import { attemptIdOf, iso } from './build-view.js';

/** Mounts `GET /allocation-plan`, `GET /openapi.json` and `GET /build/{uuid}/log` on `app`. */
export function mountAdminRoutes(app: Hono<{ Variables: object }>, ctx: CoordinatorContext): void {
  mountRoute(app, adminRoutes.allocationPlan, (c, { query }) => {
    const plan = ctx.scheduler.plan(query.limit);
    const agents = plan.agents
      .filter((a) => query.agent === undefined || a.agentId === query.agent.toLowerCase())
      .map((a) => ({ agent: a.agentId, builds: a.builds.map((b) => b.id) }));
    // When no agent's list is full, every ready build an agent could take is planned: the rest are unallocatable.
    const full = plan.agents.some((a) => a.builds.length >= query.limit);
    const planned = new Set(plan.agents.flatMap((a) => a.builds.map((b) => b.id))).size;
    return c.json({ strategy: plan.strategy, generatedAt: iso(plan.at), agents, unallocatable: full ? 0 : Math.max(0, plan.counts.ready - planned) });
  });

  let openApi: unknown;
  mountRoute(app, adminRoutes.openApi, (c) => c.json((openApi ??= createOpenApiDocument())));

  mountRoute(app, buildRoutes.buildLog, async (c, { params, query }) => {
    const attempts = (await showBuild(ctx.datastore.db, params.uuid))?.attempts;
    if (attempts === undefined) throw notFound('build', params.uuid);
    const wanted = query.attempt === undefined ? undefined : attemptIdOf(query.attempt);
    if (query.attempt !== undefined && wanted === undefined) throw notFound('attempt', query.attempt);
    const attempt = wanted === undefined ? [...attempts].reverse().find((a) => a.logLocation !== null) : attempts.find((a) => a.id === wanted);
    if (attempt === undefined) throw notFound(wanted === undefined ? 'log of build' : 'attempt', query.attempt ?? params.uuid);
    const reading = attempt.logLocation === null ? null : await ctx.storage.logs.read(attempt.logLocation);
    if (reading === null) throw notFound('log of attempt', query.attempt ?? params.uuid);
    return new Response(Readable.toWeb(reading.stream) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Gbc-Log-Live': String(reading.live) },
    });
  });
}
