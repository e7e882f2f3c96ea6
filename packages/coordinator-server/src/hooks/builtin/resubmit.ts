// Shared by the retry and missing-input hooks: submit a build through the
// client API's own path (events, scheduler, live events), with the
// protocol's defaults, unless the derivation already has an active build.
import { sql } from 'kysely';
import type { Db, Tag } from '@gbc/datastore';
import { submitBuildRequestSchema } from '@gbc/protocol';
import { submitBuild } from '../../client-api/submit-build.js';
import type { CoordinatorContext } from '../../context.js';

/** Builds of `drvPath` per state. */
export async function buildStatesOf(db: Db, drvPath: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('builds as b')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select(['b.state', sql<number>`count(*)`.as('n')])
    .where('d.path', '=', drvPath)
    .groupBy('b.state')
    .execute();
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

/** True when `states` (from {@link buildStatesOf}) has a queued, allocated or started build. */
export function hasActiveBuild(states: ReadonlyMap<string, number>): boolean {
  return ['queued', 'allocated', 'started'].some((s) => (states.get(s) ?? 0) > 0);
}

/** Submits a build of `derivation` with `priority` and `tags`; returns its UUID, or null when none was created. */
export async function resubmit(
  ctx: CoordinatorContext,
  derivation: string,
  priority: number,
  tags: readonly Tag[],
  extra: { ignoreIfBuildForOutputsExists?: boolean } = {},
): Promise<string | null> {
  const request = submitBuildRequestSchema.parse({
    derivation,
    priority,
    tags: tags.map((t) => ({ key: t.key, value: t.value })),
    ...extra,
  });
  const r = await submitBuild(ctx, request);
  return r.created ? r.uuid : null;
}
