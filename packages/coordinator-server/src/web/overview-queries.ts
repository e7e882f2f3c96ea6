// The overview's counts straight from the datastore, each one indexed read
// whose cost grows with unfinished work, never with history: builds by state
// and system walk builds(state, system, id) for the three unfinished states
// only (a million finished builds are never visited).
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';

/** Unfinished builds of one system, by state. */
export interface SystemCounts {
  readonly system: string;
  readonly queued: number;
  readonly allocated: number;
  readonly started: number;
}

/** Queued, allocated and started builds per system, systems in name order. */
export async function unfinishedBySystem(db: Db): Promise<SystemCounts[]> {
  const rows = await db
    .selectFrom('builds')
    .select(['state', 'system', sql<number>`count(*)`.as('n')])
    .where('state', 'in', ['queued', 'allocated', 'started'])
    .groupBy(['state', 'system'])
    .execute();
  const bySystem = new Map<string, { queued: number; allocated: number; started: number }>();
  for (const r of rows) {
    const entry = bySystem.get(r.system) ?? { queued: 0, allocated: 0, started: 0 };
    entry[r.state as 'queued' | 'allocated' | 'started'] = Number(r.n);
    bySystem.set(r.system, entry);
  }
  return [...bySystem.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([system, c]) => ({ system, ...c }));
}

/** A build an agent holds (its attempt is open). */
export interface HeldBuild {
  readonly agent: string;
  readonly uuid: string;
  readonly state: string;
  readonly derivation: string;
}

/**
 * Every build an agent holds, from the open attempts (the
 * `attempts(agent_id) where ended_at is null` index): as many rows as
 * builds in progress, whatever the history.
 */
export async function heldBuilds(db: Db): Promise<HeldBuild[]> {
  const rows = await db
    .selectFrom('attempts as a')
    .innerJoin('builds as b', 'b.id', 'a.build_id')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select(['a.agent_id', 'b.uuid', 'b.state', 'd.path'])
    .where('a.ended_at', 'is', null)
    .orderBy('b.id')
    .execute();
  return rows.map((r) => ({ agent: r.agent_id, uuid: r.uuid, state: r.state, derivation: r.path }));
}
