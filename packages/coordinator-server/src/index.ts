// Public entry of @gbc/coordinator-server.
export {
  createCoordinator,
  type Coordinator,
  type CoordinatorOptions,
  type UploadLimits,
} from './coordinator/create-coordinator.js';
export type { LegacyStoreDir } from './coordinator/create-coordinator.js';
export { createClientApp, type ClientAppOptions } from './client-api/index.js';
export { listen, type ListenOptions, type Listening } from './coordinator/listen.js';
export { cacheProcessesOf, resolveConfig, type CoordinatorConfig, type ResolvedConfig } from './config.js';
export type { CoordinatorContext, CoordinatorStorage } from './context.js';
export { systemClock, createManualClock, type Clock, type ManualClock } from './clock.js';
export { createJsonLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export { createEventBus, type EventBus, type EventInput, type EventListener } from './events/event-bus.js';
export type { Scheduler, FetchedBuild } from './scheduler/scheduler-api.js';
export type { CoordinatorScheduler } from './scheduler/create-scheduler.js';
export { HttpError } from './http/http-error.js';
export * from './errors.js';
export * from './storage/index.js';
export * from './compression/index.js';
export * from './cache/index.js';
export * from './hooks/index.js';
export { attachHooksAndMetrics, type HooksAndMetrics, type HooksAndMetricsOptions } from './hooks/attach.js';
export * from './metrics/index.js';
export * from './client-auth/index.js';
export * from './retention/index.js';
export { effectiveLimits, type BuildLimits } from './limits/build-limits.js';
export {
  createDerivationSubstitutes,
  type DerivationSubstitutes,
  type DerivationSubstitutesOptions,
} from './substitutes/derivation-substitutes.js';
