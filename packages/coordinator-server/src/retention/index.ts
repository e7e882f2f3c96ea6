// Public entry of the retention module: the policy, the pure planner, a run
// over any datastore and storage (what `gbc retention run` calls), the
// coordinator's runner (background task) and the client route.
export {
  resolveRetentionPolicy,
  policyLimitsAnything,
  type RetentionPolicy,
  type ResolvedRetentionPolicy,
} from './policy.js';
export {
  planRetention,
  type RetainedLog,
  type RetainedOutput,
  type RetentionInput,
  type RetentionPlan,
} from './plan.js';
export { runRetention, type RetentionResult, type RetentionTarget } from './run-retention.js';
export { retentionRunner, type RetentionRunner } from './retention-runner.js';
export { mountRetentionRoute } from './retention-route.js';
