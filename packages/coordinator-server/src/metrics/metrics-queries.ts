// The cheap grouped counts the metrics read on each scrape (one indexed
// GROUP BY each; nothing proportional to history but the attempts count).
import { sql } from 'kysely';
import type { Db } from '@gbc/datastore';

/** Queued builds per system. */
export async function queuedBySystem(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('builds as b')
    .innerJoin('derivations as d', 'd.id', 'b.derivation_id')
    .select(['d.system', sql<number>`count(*)`.as('n')])
    .where('b.state', '=', 'queued')
    .groupBy('d.system')
    .execute();
  return new Map(rows.map((r) => [r.system, Number(r.n)]));
}

/** Attempts per result kind; unfinished attempts count as `running`. */
export async function attemptsByResult(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('attempts')
    .select(['result', sql<number>`count(*)`.as('n')])
    .groupBy('result')
    .execute();
  return new Map(rows.map((r) => [r.result ?? 'running', Number(r.n)]));
}

/** Unfinished attempts per agent UUID. */
export async function openAttemptsByAgent(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('attempts')
    .select(['agent_id', sql<number>`count(*)`.as('n')])
    .where('ended_at', 'is', null)
    .groupBy('agent_id')
    .execute();
  return new Map(rows.map((r) => [r.agent_id, Number(r.n)]));
}

/** Hook events whose last run failed and are not done, per event type. */
export async function failingHookEvents(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('outbox')
    .select(['event_type', sql<number>`count(*)`.as('n')])
    .where('done_at', 'is', null)
    .where('last_error', 'is not', null)
    .groupBy('event_type')
    .execute();
  return new Map(rows.map((r) => [r.event_type, Number(r.n)]));
}

/** Bytes of stored NAR files per compression. */
export async function storedNarBytes(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('output_files')
    .select(['compression', sql<number>`sum(file_size)`.as('n')])
    .groupBy('compression')
    .execute();
  return new Map(rows.map((r) => [r.compression, Number(r.n)]));
}
