// The agent API as a Hono app (agent port): session, status, fetch-builds,
// build set-up and results, log and NAR uploads. Mounted by createCoordinator.
import { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import type { CoordinatorScheduler } from '../scheduler/create-scheduler.js';
import { agentAuthMiddleware, createAgentAuthenticator } from './agent-auth.js';
import type { AgentAuthenticator, AgentAuthOptions, AgentEnv } from './agent-auth.js';
import { mountAgentRoutes } from './agent-routes.js';
import { mountBuildRoutes } from './build-routes.js';
import { mountUploadRoutes } from './upload-routes.js';
import { createUploadedOutputs } from './uploaded-outputs.js';

/**
 * Builds the agent app over the context and the coordinator's scheduler.
 * `auth`: the credential check, or options to make one (a coordinator passes
 * the one its fetch-builds fast path shares).
 */
export function createAgentApp(
  ctx: CoordinatorContext,
  scheduler: CoordinatorScheduler,
  auth: AgentAuthOptions | AgentAuthenticator = {},
): Hono<AgentEnv> {
  const app = new Hono<AgentEnv>();
  app.onError(createErrorHandler(ctx.logger));
  app.notFound(notFoundHandler);
  const check = agentAuthMiddleware('authenticate' in auth ? auth : createAgentAuthenticator(ctx, auth));
  const uploaded = createUploadedOutputs(ctx.storage.store.scratchDir);
  mountAgentRoutes(app, ctx, check);
  mountBuildRoutes(app, ctx, scheduler, check, uploaded);
  mountUploadRoutes(app, ctx, check, uploaded);
  return app;
}
