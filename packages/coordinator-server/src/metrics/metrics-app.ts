// `GET /metrics` (agent port) as a Hono app: the coordinator registry's text.
import { Hono } from 'hono';
import { agentRoutes } from '@gbc/protocol';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import { mountRoute } from '../http/validate.js';
import type { Logger } from '../logger.js';
import type { CoordinatorMetrics } from './coordinator-metrics.js';

/** Creates the app answering `GET /metrics` from `metrics`. */
export function createMetricsApp(metrics: CoordinatorMetrics, logger: Logger): Hono {
  const app = new Hono();
  app.onError(createErrorHandler(logger));
  app.notFound(notFoundHandler);
  mountRoute(app, agentRoutes.metrics, async (c) =>
    c.body(await metrics.scrape(), 200, { 'Content-Type': metrics.registry.contentType }),
  );
  return app;
}
