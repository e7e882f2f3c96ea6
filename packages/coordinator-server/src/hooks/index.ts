// Public entry of the hooks: configuration types, resolution, the runner and its failures.
export {
  HOOK_EVENT_TYPES,
  type CommandHookSpec,
  type GuixDataServiceHookSpec,
  type HookEvent,
  type HookEventType,
  type HookFunction,
  type HookRunContext,
  type HookSpec,
  type HooksConfig,
  type ModuleHookSpec,
  type PublishHookSpec,
  type RetryHookSpec,
  type SubmitMissingInputsHookSpec,
} from './hook-types.js';
export { HookError, type HookErrorCode } from './hook-errors.js';
export { resolveHooks, type ResolveHooksOptions } from './resolve-hooks.js';
export {
  createHookRunner,
  toHookEvent,
  type HookRunner,
  type HookRunnerOptions,
  type HookTypeStats,
} from './hook-runner.js';
export { hookQueueDepth, listHookFailures, type HookFailure } from './hook-failures.js';
export { GUIX_DATA_SERVICE_EVENTS } from './builtin/guix-data-service.js';
