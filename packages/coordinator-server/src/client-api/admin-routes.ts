// Operator routes of the client API: the allocation plan, the hooks' queue
// and failures, and the OpenAPI document. (Client tokens and retention have
// routes of their own.)
import { adminRoutes, createOpenApiDocument } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { mountRoute } from '../http/validate.js';
import { hookQueueDepth, listHookFailures } from '../hooks/hook-failures.js';
import { iso } from './build-view.js';

/** Mounts `GET /allocation-plan`, `GET /hooks` and `GET /openapi.json` on `app`. */
export function mountAdminRoutes(app: Hono<{ Variables: object }>, ctx: CoordinatorContext): void {
  mountRoute(app, adminRoutes.allocationPlan, (c, { query }) => {
    const plan = ctx.scheduler.plan(query.limit);
    const agents = plan.agents
      .filter((a) => query.agent === undefined || a.agentId === query.agent.toLowerCase())
      .map((a) => ({ agent: a.agentId, builds: a.builds.map((b) => b.id) }));
    // When no agent's list is full, every ready build an agent could take is planned: the rest are unallocatable.
    const full = plan.agents.some((a) => a.builds.length >= query.limit);
    const planned = new Set(plan.agents.flatMap((a) => a.builds.map((b) => b.id))).size;
    return c.json({
      strategy: plan.strategy,
      generatedAt: iso(plan.at),
      agents,
      unallocatable: full ? 0 : Math.max(0, plan.counts.ready - planned),
    });
  });

  mountRoute(app, adminRoutes.hookStatus, async (c, { query }) => {
    const db = ctx.datastore.db;
    const [depth, failures] = await Promise.all([hookQueueDepth(db), listHookFailures(db, query.limit)]);
    const queue = [...depth]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([eventType, pending]) => ({ eventType, pending }));
    const failing = failures.map((f) => ({
      ...f,
      nextAttemptAt: iso(f.nextAttemptAt),
      createdAt: iso(f.createdAt),
    }));
    return c.json({ queue, failing });
  });

  let openApi: unknown;
  mountRoute(app, adminRoutes.openApi, (c) => c.json((openApi ??= createOpenApiDocument())));
}
