// Built-in hook `retry-on-failure`: on build-failure, when the failed
// attempt's result kind is one of `kinds` and the derivation has failed at
// most `maxRetries` times, submit a new build of it (same priority and tags).
// Runs again safely: no build is submitted while one is active.
import { showBuild } from '@gbc/datastore';
import { HookError } from '../hook-errors.js';
import type { HookFunction, RetryHookSpec } from '../hook-types.js';
import { buildStatesOf, hasActiveBuild, resubmit } from './resubmit.js';

/** Creates the retry hook for `spec`. */
export function createRetryHook(spec: RetryHookSpec): HookFunction {
  const maxRetries = spec.maxRetries ?? 3;
  const kinds = new Set(spec.kinds ?? ['build-failure', 'timeout']);
  if (!Number.isInteger(maxRetries) || maxRetries < 0)
    throw new HookError(
      'bad-hook-config',
      `retry-on-failure: maxRetries must be a non-negative integer, got ${maxRetries}`,
    );
  return async (event, { coordinator }) => {
    if (event.type !== 'build-failure') return;
    if (event.build === null) throw new HookError('missing-data', `event ${event.id} names no build`);
    const build = await showBuild(coordinator.datastore.db, event.build);
    if (build === undefined)
      throw new HookError('missing-data', `build ${event.build} of event ${event.id} does not exist`);
    const last = build.attempts.reduce<(typeof build.attempts)[number] | undefined>(
      (a, b) => (a === undefined || b.id > a.id ? b : a),
      undefined,
    );
    const kind = typeof event.payload.result === 'string' ? event.payload.result : (last?.result ?? null);
    if (build.state !== 'failed' || kind === null || !kinds.has(kind)) return;
    const states = await buildStatesOf(coordinator.datastore.db, build.derivationPath);
    if (hasActiveBuild(states) || (states.get('failed') ?? 0) > maxRetries) return;
    await resubmit(coordinator, build.derivationPath, build.priority, build.tags);
  };
}
