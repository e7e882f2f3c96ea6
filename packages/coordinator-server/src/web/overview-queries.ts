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
