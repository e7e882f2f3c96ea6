// `GET /build/{uuid}/why`: every reason a build is not running, read from the
// datastore (the authority): its state, deferral, inputs pending, failed or
// unavailable, and whether any active agent has its system and tags.
import { listAgents, showBuild } from '@gbc/datastore';
import type { Agent, Build, Db } from '@gbc/datastore';
import type { WhyReason, WhyResponse } from '@gbc/protocol';
import { notFound } from '../http/http-error.js';
import { iso, isoOrNull } from './build-view.js';
import { unavailableInputs } from './input-status.js';

/** The reasons build `uuid` is where it is at time `now` (ms). */
export async function explainBuild(db: Db, uuid: string, now: number): Promise<WhyResponse> {
  const build = await showBuild(db, uuid.toLowerCase());
  if (build === undefined) throw notFound('build', uuid);
  const open = build.attempts.find((a) => a.endedAt === null);
  const reasons: WhyReason[] = [];
  if (build.state === 'succeeded' || build.state === 'failed' || build.state === 'canceled') {
    reasons.push({ kind: 'finished', state: build.state, endedAt: isoOrNull(build.endedAt) });
  } else if (build.state === 'started' && open !== undefined) {
    reasons.push({
      kind: 'started',
      agent: open.agentId,
      startedAt: iso(open.startedAt ?? open.allocatedAt),
    });
  } else if (build.state === 'allocated' && open !== undefined) {
    reasons.push({ kind: 'allocated', agent: open.agentId, leaseExpiresAt: iso(open.leaseExpiresAt) });
  } else {
    reasons.push(...(await queuedReasons(db, build, now)));
  }
  return { uuid, state: build.state, reasons };
}

async function queuedReasons(db: Db, build: Build, now: number): Promise<WhyReason[]> {
  const reasons: WhyReason[] = [];
  if (build.deferUntil !== null && build.deferUntil > now)
    reasons.push({ kind: 'deferred', until: iso(build.deferUntil) });
  const inputs = await unavailableInputs(db, build.derivationPath);
  const view = (i: (typeof inputs)[number]) => ({
    derivation: i.derivation,
    build: i.build?.uuid ?? null,
    state: i.build?.state ?? null,
  });
  const pending = inputs.filter(
    (i) => i.build !== null && ['queued', 'allocated', 'started'].includes(i.build.state),
  );
  const failed = inputs.filter((i) => i.build?.state === 'failed');
  const unavailable = inputs.filter(
    (i) => i.build === null || i.build.state === 'canceled' || i.build.state === 'succeeded',
  );
  if (pending.length > 0) reasons.push({ kind: 'inputs-pending', inputs: pending.map(view) });
  if (failed.length > 0 || build.blockedBy !== null) {
    const listed = failed.map(view);
    if (build.blockedBy !== null && !failed.some((f) => f.derivation === build.blockedBy))
      listed.push({ derivation: build.blockedBy, build: null, state: 'failed' });
    reasons.push({ kind: 'inputs-failed', inputs: listed });
  }
  if (unavailable.length > 0)
    reasons.push({ kind: 'inputs-unavailable', paths: unavailable.flatMap((i) => i.paths) });
  if (!(await listAgents(db)).some((a) => accepts(a, build)))
    reasons.push({
      kind: 'no-matching-agent',
      system: build.system,
      tags: build.tags.map((t) => ({ key: t.key, value: t.value })),
    });
  if (reasons.length === 0) reasons.push({ kind: 'queued', position: await positionOf(db, build) });
  return reasons;
}

/** An active agent with the build's system whose tags agree with the build's on every shared key. */
function accepts(agent: Agent, build: Build): boolean {
  if (!agent.active || !agent.systems.includes(build.system)) return false;
  return build.tags.every((t) => {
    const values = agent.tags.filter((a) => a.key === t.key).map((a) => a.value);
    return values.length === 0 || values.includes(t.value);
  });
}

/**
 * Queued builds of the same system, unblocked and with every input held,
 * ahead of this one by priority then age: the `basic` strategy's order
 * (other strategies may differ; the deferral of others is not considered).
 */
async function positionOf(db: Db, build: Build): Promise<number> {
  const row = await db
    .selectFrom('builds as b')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('b.state', '=', 'queued')
    .where('b.system', '=', build.system)
    .where('b.blocked_by', 'is', null)
    .where('b.uuid', '!=', build.id)
    .where((eb) =>
      eb.or([
        eb('b.priority', '>', build.priority),
        eb.and([eb('b.priority', '=', build.priority), eb('b.created_at', '<', build.createdAt)]),
      ]),
    )
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('derivation_inputs as i')
            .leftJoin('derivation_outputs as o', (j) =>
              j.onRef('o.derivation_id', '=', 'i.input_id').onRef('o.name', '=', 'i.output_name'),
            )
            .leftJoin('output_metadata as m', 'm.store_path', 'o.path')
            .select('i.input_path')
            .whereRef('i.derivation_id', '=', 'b.derivation_id')
            .where('m.store_path', 'is', null),
        ),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
