// Datastore builds, attempts and outputs as the protocol shows them (ISO
// times, protocol field names), and the open attempts that say which agent
// holds a build.
import type { Attempt as StoredAttempt, Build as StoredBuild, BuildDetails, Db } from '@gbc/datastore';
import type { Attempt, Build, BuildDetail, BuildOutput } from '@gbc/protocol';

/** An ISO 8601 UTC timestamp from milliseconds since the epoch. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `iso` for a nullable time. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** A build as listed; `agent` holds it when allocated or started. */
export function toBuildView(b: StoredBuild, agent: string | null): Build {
  return {
    uuid: b.id,
    derivation: b.derivationPath,
    system: b.system,
    priority: b.priority,
    state: b.state,
    tags: b.tags.map((t) => ({ key: t.key, value: t.value })),
    createdAt: iso(b.createdAt),
    deferUntil: isoOrNull(b.deferUntil),
    endedAt: isoOrNull(b.endedAt),
    timeoutSeconds: b.timeout,
    maxSilentTimeSeconds: b.maxSilentTime,
    agent: b.state === 'allocated' || b.state === 'started' ? agent : null,
    blockedByFailedDependency: b.blockedBy !== null,
  };
}

/** One attempt; `missingInputs` from the setup failures recorded for it. */
export function toAttemptView(a: StoredAttempt, missingInputs: readonly string[]): Attempt {
  return {
    uuid: a.uuid,
    agent: a.agentId,
    allocatedAt: iso(a.allocatedAt),
    startedAt: isoOrNull(a.startedAt),
    endedAt: isoOrNull(a.endedAt),
    result: a.result,
    failureReason: a.failureReason,
    missingInputs: [...missingInputs],
    hasLog: a.logLocation !== null,
  };
}

/** The full view of `GET /build/{uuid}`. */
export function toBuildDetailView(
  d: BuildDetails,
  waitingFor: readonly string[],
  blockedBy: readonly string[],
): BuildDetail {
  const open = d.attempts.find((a) => a.endedAt === null);
  const meta = new Map(d.outputMetadata.map((m) => [m.storePath, m]));
  const outputs: BuildOutput[] = d.outputs.map((o) => {
    const m = meta.get(o.path);
    return {
      name: o.name,
      path: o.path,
      narHash: m?.narHash ?? null,
      narSize: m?.narSize ?? null,
      references: m === undefined ? [] : [...m.references],
    };
  });
  return {
    ...toBuildView(d, open?.agentId ?? null),
    attempts: d.attempts.map((a) =>
      toAttemptView(
        a,
        d.setupFailures.filter((f) => f.attemptId === a.id).flatMap((f) => f.missingInputs),
      ),
    ),
    outputs,
    waitingFor: [...waitingFor],
    blockedBy: [...blockedBy],
  };
}

/** The agent of each build's open attempt, for the builds with UUIDs `ids`. */
export async function holdingAgents(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .select(['b.uuid', 'a.agent_id'])
    .where('b.uuid', 'in', [...ids])
    .where('a.ended_at', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.uuid, r.agent_id]));
}
