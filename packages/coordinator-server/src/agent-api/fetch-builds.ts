// fetch-builds itself, whichever path received the call: the Hono route
// (agent-routes.ts) or the fast path in front of it (fetch-builds-listener.ts).
// The scheduler claims; everything the answer needs came back with the claim.
import type { AllocatedBuild, FetchBuildsRequest, FetchBuildsResponse } from '@gbc/protocol';
import type { CoordinatorContext } from '../context.js';
import { effectiveLimits } from '../limits/build-limits.js';
import type { FetchedBuild } from '../scheduler/scheduler-api.js';
import { ensureSelf } from './agent-auth.js';
import { derivationClosure } from './closure.js';

/**
 * Allocates up to `request.count` builds (at most the configured maximum) to
 * the authenticated agent `agentId`, who must be `pathAgent`; publishes a
 * `build-allocated` event per build and returns the answer.
 */
export async function fetchBuildsFor(
  ctx: CoordinatorContext,
  agentId: string,
  pathAgent: string,
  request: FetchBuildsRequest,
): Promise<FetchBuildsResponse> {
  ensureSelf(agentId, pathAgent);
  const count = Math.min(request.count, ctx.config.maxFetchCount);
  const fetched = await ctx.scheduler.fetchBuilds(agentId, count, request.systems);
  const closures = request.closures === 'own' ? await ownClosures(ctx, fetched) : undefined;
  const builds = fetched.map((f, i) => allocatedBuild(ctx, f, closures?.[i]));
  for (const b of builds)
    ctx.events.publish({
      type: 'build-allocated',
      build: b.uuid,
      agent: agentId,
      derivation: b.derivation,
      state: 'allocated',
    });
  return { builds };
}

/**
 * Each build's own closure (a request less per build for BuildDerivation).
 * The builds are claimed already: a closure that cannot be read is left out
 * (the agent asks for it), rather than failing the answer and stranding the
 * builds until their leases expire.
 */
function ownClosures(
  ctx: CoordinatorContext,
  fetched: readonly FetchedBuild[],
): Promise<(AllocatedBuild['closure'] | undefined)[]> {
  return Promise.all(
    fetched.map((f) =>
      derivationClosure(ctx.datastore.db, f.derivationPath, 'own').catch((error: unknown) => {
        ctx.logger.warn('closure not sent with the allocation', { build: f.buildId, error: String(error) });
        return undefined;
      }),
    ),
  );
}

function allocatedBuild(
  ctx: CoordinatorContext,
  f: FetchedBuild,
  closure: AllocatedBuild['closure'] | undefined,
): AllocatedBuild {
  const limits = effectiveLimits(f, ctx.config);
  const build: AllocatedBuild = {
    uuid: f.buildId,
    attempt: f.attemptUuid,
    derivation: f.derivationPath,
    system: f.system,
    priority: f.priority,
    tags: [...f.tags],
    timeoutSeconds: limits.timeoutSeconds,
    maxSilentTimeSeconds: limits.maxSilentTimeSeconds,
    leaseExpiresAt: new Date(f.leaseExpiresAt).toISOString(),
  };
  if (closure !== undefined) build.closure = closure;
  return build;
}
