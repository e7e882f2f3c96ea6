// The client API as one Hono app: every client-port route of @gbc/protocol's
// table, behind bearer-token authentication (src/client-auth/).
// The coordinator mounts it on the client listener (and the read-only
// dashboard, when asked, on an address of its own); tests call `app.request()`.
import { Hono } from 'hono';
import { createClientAuth } from '../client-auth/client-auth.js';
import { mountClientTokenRoutes } from '../client-auth/token-routes.js';
import type { CoordinatorContext } from '../context.js';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import { mountAdminRoutes } from './admin-routes.js';
import { mountAgentRoutes } from './agent-routes.js';
import type { ClientAppOptions } from './app-options.js';
import { mountBuildRoutes } from './build-routes.js';
import { mountCancelRoutes } from './cancel-routes.js';
import { mountEventsRoute } from './events-route.js';
import { mountLogRoute } from './log-route.js';
import { mountRetentionRoute } from '../retention/retention-route.js';
import { mountSubmissionRoutes } from './submission-routes.js';
import { createReadOnlyDashboard, mountWebDashboard } from '../web/web-app.js';

/** The client app and the read-only dashboard that reads through it. */
export interface ClientApps {
  readonly clientApp: Hono<{ Variables: object }>;
  /** The dashboard alone and read-only, for an address of its own (`dashboardUrl`); made on first use. */
  readonly dashboardApp: Hono;
}

/** Creates the client app over `ctx`; see the file header and {@link ClientAppOptions}. */
export function createClientApp(
  ctx: CoordinatorContext,
  options: ClientAppOptions = {},
): Hono<{ Variables: object }> {
  return createClientApps(ctx, options).clientApp;
}

/** The client app and, reading through it, the read-only dashboard. */
export function createClientApps(ctx: CoordinatorContext, options: ClientAppOptions = {}): ClientApps {
  const app = new Hono<{ Variables: object }>();
  app.onError(createErrorHandler(ctx.logger));
  app.notFound(notFoundHandler);
  const auth = createClientAuth(ctx);
  // The dashboard (/ui) comes before the bearer-token check: it has its own session cookie.
  mountWebDashboard(app, ctx, auth);
  app.use('*', auth.middleware);
  mountSubmissionRoutes(app, ctx, options);
  mountCancelRoutes(app, ctx);
  mountBuildRoutes(app, ctx);
  mountAgentRoutes(app, ctx);
  mountAdminRoutes(app, ctx);
  mountLogRoute(app, ctx, options.logPollMs);
  mountEventsRoute(app, ctx, options.keepAliveMs, options.eventBufferBytes);
  mountClientTokenRoutes(app, ctx, auth);
  mountRetentionRoute(app, ctx);
  // Made only when served: its chart would otherwise count every event for nobody.
  let dashboardApp: Hono | undefined;
  return {
    clientApp: app,
    get dashboardApp() {
      return (dashboardApp ??= createReadOnlyDashboard(ctx, auth, (request) => app.fetch(request)));
    },
  };
}
