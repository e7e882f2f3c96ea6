// The agent API as a Hono app (agent port): session, status, fetch-builds,
// build set-up and results, log and NAR uploads. Mounted by createCoordinator.
import { Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import type { CoordinatorScheduler } from '../scheduler/create-scheduler.js';
import { createAgentAuth } from './agent-auth.js';
import type { AgentAuthOptions, AgentEnv } from './agent-auth.js';
import { mountAgentRoutes } from './agent-routes.js';
import { mountBuildRoutes } from './build-routes.js';
import { mountUploadRoutes } from './upload-routes.js';
import { createUploadedOutputs } from './uploaded-outputs.js';

/** Builds the agent app over the context and the coordinator's scheduler. */
export function createAgentApp(
  ctx: CoordinatorContext,
  scheduler: CoordinatorScheduler,
  options: AgentAuthOptions = {},
): Hono<AgentEnv> {
  const app = new Hono<AgentEnv>();
  app.onError(createErrorHandler(ctx.logger));
  app.notFound(notFoundHandler);
  const auth = createAgentAuth(ctx, options);
  const uploaded = createUploadedOutputs(ctx.storage.store.scratchDir);
  mountAgentRoutes(app, ctx, auth);
  mountBuildRoutes(app, ctx, scheduler, auth, uploaded);
  mountUploadRoutes(app, ctx, auth, uploaded);
  return app;
}
