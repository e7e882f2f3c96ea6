// What createCoordinator attaches of this module and the metrics: the hook
// runner built from the configuration, the coordinator's metrics, and the
// agent port's root app (request-duration middleware, `GET /metrics` unless
// metrics have an address of their own, then the agent API with the binary
// cache), and the metrics app alone. `start()`/`stop()` run the workers.
import { Hono, type Env } from 'hono';
import { resolveCacheOptions, type CacheOptions } from '../cache/cache-options.js';
import type { CoordinatorContext } from '../context.js';
import { createErrorHandler, notFoundHandler } from '../http/on-error.js';
import { createCoordinatorMetrics, type CoordinatorMetrics } from '../metrics/coordinator-metrics.js';
import { createMetricsApp } from '../metrics/metrics-app.js';
import { requestMetrics } from '../metrics/request-metrics.js';
import { createHookRunner, type HookRunner, type HookRunnerOptions } from './hook-runner.js';
import type { HooksConfig } from './hook-types.js';
import { resolveHooks } from './resolve-hooks.js';

/** Hook and metrics settings of a coordinator (see hook-types.ts for the `hooks` shape). */
export interface HooksAndMetricsOptions {
  /** Hooks per event type. Default none (events are completed without running anything). */
  readonly hooks?: HooksConfig;
  /** Events of one type processed at once: one number, or per event type. Default 1. */
  readonly parallelHooks?: number | Readonly<Record<string, number>>;
  /** Retry backoff, polling, lease and forced-stop timings of the hook workers. */
  readonly hookRunner?: Omit<HookRunnerOptions, 'hooks' | 'parallelism'>;
  /** The cache's options: `publish` hooks write narinfos the way the cache serves them. */
  readonly cache?: CacheOptions;
  /** Also export Node's process metrics. Default false. */
  readonly processMetrics?: boolean;
}

/** The attached hooks and metrics. */
export interface HooksAndMetrics {
  readonly hooks: HookRunner;
  readonly metrics: CoordinatorMetrics;
  /** The app to serve on the agent port: request metrics, `/metrics` (unless `config.metricsUrl` is set), then `agentApp`. */
  readonly agentPortApp: Hono;
  /** `GET /metrics` alone, for the metrics' own address. */
  readonly metricsApp: Hono;
  /** Starts the hook workers. */
  start(): void;
  /** Stops the hook workers gracefully. */
  stop(): Promise<void>;
}

/** Resolves the hooks (refusing a bad configuration now) and builds the metrics and the agent port's root app. */
export async function attachHooksAndMetrics<E extends Env>(
  context: CoordinatorContext,
  agentApp: Hono<E>,
  options: HooksAndMetricsOptions = {},
): Promise<HooksAndMetrics> {
  const resolved = await resolveHooks(options.hooks ?? {}, {
    cache: await resolveCacheOptions(options.cache ?? {}),
    cwd: context.config.cwd,
  });
  const hooks = createHookRunner(context, {
    ...options.hookRunner,
    hooks: resolved,
    ...(options.parallelHooks === undefined ? {} : { parallelism: options.parallelHooks }),
  });
  const metrics = createCoordinatorMetrics(context, {
    hooks,
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });
  const root = new Hono();
  root.onError(createErrorHandler(context.logger));
  root.notFound(notFoundHandler);
  root.use(requestMetrics(metrics));
  const metricsApp = createMetricsApp(metrics, context.logger);
  if (context.config.metricsUrl === undefined) root.route('/', metricsApp);
  root.route('/', agentApp as unknown as Hono);
  return {
    hooks,
    metrics,
    agentPortApp: root,
    metricsApp,
    start: () => hooks.start(),
    stop: () => hooks.stop(),
  };
}
