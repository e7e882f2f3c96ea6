// Agent-port routes about the agent itself: the dynamic-auth session, status
// reports (reconciling the agent's open attempts with what it holds, canceled
// builds) and fetch-builds.
import type { Hono, MiddlewareHandler } from 'hono';
import {
  StateConflictError,
  createSessionPassword,
  getAgent,
  getAgentByName,
  reconcileAttempts,
  recordAgentStatus,
  setAgentSystems,
  useDynamicAuthToken,
} from '@gbc/datastore';
import { agentRoutes } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { leaseMs } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import type { AgentEnv } from './agent-auth.js';
import { ensureSelf } from './agent-auth.js';
import { fetchBuildsFor } from './fetch-builds.js';

/** Mounts session, status and fetch-builds on the agent app. */
export function mountAgentRoutes(
  app: Hono<AgentEnv>,
  ctx: CoordinatorContext,
  auth: MiddlewareHandler<AgentEnv>,
): void {
  const db = ctx.datastore.db;
  const opts = { jsonBodyBytes: ctx.config.jsonBodyBytes };

  mountRoute(
    app,
    agentRoutes.agentSession,
    async (c, { body }) => {
      const existed = (await getAgentByName(db, body.name)) !== undefined;
      let agent;
      try {
        agent = await useDynamicAuthToken(db, body.token, body.name, [], ctx.clock.now());
      } catch (error) {
        if (error instanceof StateConflictError && error.code === 'token-invalid')
          throw new HttpError('unauthorized', 'the dynamic-auth token is unknown or revoked', {
            cause: error,
          });
        if (error instanceof StateConflictError && error.code === 'token-not-for-agent')
          throw new HttpError('forbidden', error.message, { cause: error });
        throw error;
      }
      const password = await createSessionPassword(db, agent.id, ctx.clock.now());
      if (!existed)
        ctx.events.publish({ type: 'agent-created', agent: agent.id, data: { name: agent.name } });
      return c.json({ agent: agent.id, password, created: !existed }, 200);
    },
    opts,
  );

  mountRoute(
    app,
    agentRoutes.reportStatus,
    async (c, { params, body }) => {
      const me = c.get('agentId');
      ensureSelf(me, params.uuid);
      const now = ctx.clock.now();
      const agent = await getAgent(db, me);
      if (agent === undefined) throw new HttpError('not-found', `no agent ${me}`);
      // Only the builds the report lists are renewed; what the agent no longer
      // holds goes back to the queue now rather than never (its lease would be
      // renewed by every report). agent.statusAt is the previous report's time.
      const { released } = await reconcileAttempts(db, me, body.builds, {
        leaseMs: leaseMs(ctx),
        lostBefore: agent.statusAt,
        now,
      });
      if (released.length > 0) {
        await ctx.scheduler.refresh(released.map((r) => r.buildId));
        for (const r of released)
          ctx.events.publish({
            type: 'build-released',
            build: r.buildId,
            agent: me,
            data: { reason: 'not-held-by-agent' },
          });
        ctx.logger.info('builds the agent no longer holds: back in the queue', {
          agent: me,
          builds: released.map((r) => r.buildId),
        });
      }
      await recordAgentStatus(
        db,
        me,
        {
          load1: body.load1,
          freeDiskBytes: body.freeDiskBytes ?? null,
          builds: body.builds,
          draining: body.draining,
        },
        now,
      );
      if (
        body.systems !== undefined &&
        body.systems.join('\u0000') !== [...agent.systems].sort().join('\u0000')
      )
        await setAgentSystems(db, me, body.systems);
      const held =
        body.builds.length === 0
          ? []
          : await db
              .selectFrom('builds as b')
              .leftJoin('attempts as a', (j) =>
                j.onRef('a.build_id', '=', 'b.id').on('a.agent_id', '=', me).on('a.ended_at', 'is', null),
              )
              .select(['b.uuid', 'b.state', 'a.id as attempt'])
              .where('b.uuid', 'in', body.builds)
              .execute();
      const canceled = new Set(held.filter((h) => h.state === 'canceled').map((h) => h.uuid));
      const mine = new Set(
        held.filter((h) => h.attempt !== null && h.state !== 'canceled').map((h) => h.uuid),
      );
      ctx.events.publish({
        type: 'agent-status',
        agent: me,
        data: { load1: body.load1, builds: body.builds.length },
      });
      return c.json(
        {
          canceledBuilds: body.builds.filter((b) => canceled.has(b)),
          unknownBuilds: body.builds.filter((b) => !canceled.has(b) && !mine.has(b)),
          leaseSeconds: ctx.config.leaseSeconds,
          serverTime: new Date(now).toISOString(),
          active: agent.active,
        },
        200,
      );
    },
    { ...opts, before: [auth] },
  );

  mountRoute(
    app,
    agentRoutes.fetchBuilds,
    async (c, { params, body }) =>
      c.json(await fetchBuildsFor(ctx, c.get('agentId'), params.uuid, body), 200),
    { ...opts, before: [auth] },
  );
}
