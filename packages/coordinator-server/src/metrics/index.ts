// Public entry of the metrics: the per-coordinator registry, the request middleware, the /metrics app.
export {
  createCoordinatorMetrics,
  type CoordinatorMetrics,
  type CoordinatorMetricsOptions,
  type MetricsContext,
  type UploadObservation,
} from './coordinator-metrics.js';
export { requestMetrics } from './request-metrics.js';
export { createMetricsApp } from './metrics-app.js';
