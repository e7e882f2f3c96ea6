// Built-in hook `submit-missing-inputs`: on build-missing-inputs, submit a
// build for each derivation producing a store path the agent could not get
// (payload `missingInputs`, else the build's latest setup failure), unless a
// build of those outputs already exists.
import { derivationsForOutput, showBuild } from '@gbc/datastore';
import { HookError } from '../hook-errors.js';
import type { HookFunction } from '../hook-types.js';
import { resubmit } from './resubmit.js';

/** Creates the submit-missing-inputs hook. */
export function createSubmitMissingInputsHook(): HookFunction {
  return async (event, { coordinator }) => {
    if (event.build === null) throw new HookError('missing-data', `event ${event.id} names no build`);
    const db = coordinator.datastore.db;
    const build = await showBuild(db, event.build);
    if (build === undefined)
      throw new HookError('missing-data', `build ${event.build} of event ${event.id} does not exist`);
    const fromPayload = event.payload.missingInputs;
    const latest = [...build.setupFailures].sort((a, b) => b.id - a.id)[0];
    const missing = Array.isArray(fromPayload)
      ? fromPayload.filter((p): p is string => typeof p === 'string')
      : (latest?.missingInputs ?? []);
    const derivations = new Set<string>();
    for (const path of missing) {
      const producers = await derivationsForOutput(db, path);
      if (producers[0] !== undefined) derivations.add(producers[0]);
    }
    for (const drv of derivations)
      await resubmit(coordinator, drv, build.priority, build.tags, { ignoreIfBuildForOutputsExists: true });
  };
}
