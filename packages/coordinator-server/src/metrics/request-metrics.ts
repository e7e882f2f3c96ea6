// A Hono middleware recording each request's duration by method, matched
// route pattern (never the raw path: bounded label values) and status.
import type { MiddlewareHandler } from 'hono';
import type { CoordinatorMetrics } from './coordinator-metrics.js';

/** Records `gbc_http_request_duration_seconds` for every request through the app it is installed on. */
export function requestMetrics(
  metrics: Pick<CoordinatorMetrics, 'observeRequest'>,
  now: () => number = () => performance.now(),
): MiddlewareHandler {
  return async (c, next) => {
    const start = now();
    try {
      await next();
    } finally {
      const route = c.res.status === 404 && c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
      metrics.observeRequest(c.req.method, route, c.res.status, (now() - start) / 1000);
    }
  };
}
