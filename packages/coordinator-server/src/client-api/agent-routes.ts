// Agent administration routes of the client API: create, list, show,
// activate/deactivate, tags, passwords (new, list, revoke) and dynamic-auth
// tokens (new, list, revoke). A revocation publishes `agent-credentials-revoked`
// for each agent it touches: the agent auth drops its cached successes at once.
import {
  createAgent,
  createAgentPassword,
  createDynamicAuthToken,
  getAgent,
  listAgentPasswords,
  listAgents,
  listDynamicAuthTokens,
  listEndedAttempts,
  listOpenAttempts,
  revokeAgentPassword,
  revokeDynamicAuthTokenSessions,
  setAgentActive,
  setAgentTags,
} from '@gbc/datastore';
import type { Agent as StoredAgent } from '@gbc/datastore';
import { AGENT_RECENT_ATTEMPTS, agentAdminRoutes, agentStatusSchema } from '@gbc/protocol';
import type { Agent, AgentStatus } from '@gbc/protocol';
import type { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { notFound } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import { iso, isoOrNull } from './build-view.js';

/** An agent as the protocol shows it; a status that does not read as one is shown as null. */
export function toAgentView(a: StoredAgent): Agent {
  return {
    uuid: a.id,
    name: a.name,
    description: a.description,
    active: a.active,
    tags: a.tags.map((t) => ({ key: t.key, value: t.value })),
    systems: [...a.systems],
    createdAt: iso(a.createdAt),
    status: statusOf(a),
  };
}

function statusOf(a: StoredAgent): AgentStatus | null {
  if (a.statusAt === null || typeof a.status !== 'object' || a.status === null) return null;
  const s = a.status as Record<string, unknown>;
  const parsed = agentStatusSchema.safeParse({
    freeDiskBytes: null,
    builds: [],
    ...s,
    reportedAt: iso(a.statusAt),
  });
  return parsed.success ? parsed.data : null;
}

/** Mounts the agent administration routes on `app`. */
export function mountAgentRoutes(app: Hono<{ Variables: object }>, ctx: CoordinatorContext): void {
  const db = ctx.datastore.db;
  const jsonBodyBytes = ctx.config.jsonBodyBytes;
  const found = async (uuid: string): Promise<StoredAgent> => {
    const agent = await getAgent(db, uuid.toLowerCase());
    if (agent === undefined) throw notFound('agent', uuid);
    return agent;
  };

  mountRoute(app, agentAdminRoutes.listAgents, async (c) =>
    c.json({ agents: (await listAgents(db)).map(toAgentView) }),
  );

  mountRoute(
    app,
    agentAdminRoutes.createAgent,
    async (c, { body }) => {
      const agent = await createAgent(
        db,
        { name: body.name, description: body.description ?? null, tags: body.tags },
        ctx.clock.now(),
      );
      const password = body.withPassword ? await createAgentPassword(db, agent.id, ctx.clock.now()) : null;
      // No scheduler notice: a new agent has no systems until it reports or fetches.
      ctx.events.publish({ type: 'agent-created', agent: agent.id, data: { name: agent.name } });
      return c.json({ agent: toAgentView(agent), password }, 201);
    },
    { jsonBodyBytes },
  );

  mountRoute(app, agentAdminRoutes.getAgent, async (c, { params }) => {
    const agent = await found(params.uuid);
    const [open, ended] = await Promise.all([
      listOpenAttempts(db, agent.id),
      listEndedAttempts(db, agent.id, AGENT_RECENT_ATTEMPTS),
    ]);
    return c.json({
      ...toAgentView(agent),
      allocatedBuilds: open.filter((a) => a.startedAt === null).map((a) => a.buildId),
      startedBuilds: open.filter((a) => a.startedAt !== null).map((a) => a.buildId),
      recentAttempts: ended.map((a) => ({
        uuid: a.uuid,
        build: a.buildId,
        derivation: a.derivationPath,
        system: a.system,
        allocatedAt: iso(a.allocatedAt),
        startedAt: isoOrNull(a.startedAt),
        endedAt: iso(a.endedAt),
        result: a.result,
        failureReason: a.failureReason,
      })),
    });
  });

  mountRoute(app, agentAdminRoutes.newAgentPassword, async (c, { params }) => {
    const agent = await found(params.uuid);
    return c.json({ password: await createAgentPassword(db, agent.id, ctx.clock.now()) }, 201);
  });

  mountRoute(app, agentAdminRoutes.listAgentPasswords, async (c, { params }) => {
    const agent = await found(params.uuid);
    const passwords = await listAgentPasswords(db, agent.id);
    return c.json({
      passwords: passwords.map((p) => ({ id: p.id, createdAt: iso(p.createdAt), session: p.fromSession })),
    });
  });

  mountRoute(app, agentAdminRoutes.revokeAgentPassword, async (c, { params }) => {
    const agent = await found(params.uuid);
    await revokeAgentPassword(db, agent.id, params.id);
    ctx.events.publish({
      type: 'agent-credentials-revoked',
      agent: agent.id,
      data: { name: agent.name, password: params.id },
    });
    return c.body(null, 204);
  });

  mountRoute(
    app,
    agentAdminRoutes.setAgentTags,
    async (c, { params, body }) => {
      const agent = await found(params.uuid);
      await setAgentTags(db, agent.id, body.tags);
      await ctx.scheduler.notifyAgentChanged(agent.id);
      return c.json(toAgentView(await found(agent.id)));
    },
    { jsonBodyBytes },
  );

  for (const [route, active] of [
    [agentAdminRoutes.activateAgent, true],
    [agentAdminRoutes.deactivateAgent, false],
  ] as const) {
    mountRoute(app, route, async (c, { params }) => {
      const agent = await found(params.uuid);
      await setAgentActive(db, agent.id, active);
      await ctx.scheduler.notifyAgentChanged(agent.id);
      ctx.events.publish({
        type: active ? 'agent-activated' : 'agent-deactivated',
        agent: agent.id,
        data: { name: agent.name },
      });
      return c.json(toAgentView(await found(agent.id)));
    });
  }

  mountRoute(app, agentAdminRoutes.createDynamicAuthToken, async (c) => {
    const { id, token } = await createDynamicAuthToken(db, ctx.clock.now());
    return c.json({ token, id }, 201);
  });

  mountRoute(app, agentAdminRoutes.listDynamicAuthTokens, async (c) => {
    const tokens = await listDynamicAuthTokens(db);
    return c.json({
      tokens: tokens.map((t) => ({
        id: t.id,
        createdAt: iso(t.createdAt),
        revokedAt: t.revokedAt === null ? null : iso(t.revokedAt),
        agents: t.agents,
      })),
    });
  });

  mountRoute(app, agentAdminRoutes.revokeDynamicAuthToken, async (c, { params }) => {
    const revoked = await revokeDynamicAuthTokenSessions(db, params.id, ctx.clock.now());
    for (const agent of revoked.agents)
      ctx.events.publish({ type: 'agent-credentials-revoked', agent, data: { dynamicAuthToken: params.id } });
    return c.json(revoked);
  });
}
