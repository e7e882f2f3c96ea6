// The hook outbox: events written in the same transaction as the change they
// describe, claimed in batches under a lease, completed, or retried with
// exponential backoff. Processing is at least once.
import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import { isPg } from './attempts-claim.js';
import type { OutboxTable } from './schema.js';
import { chunk } from './transaction.js';
import type { Db } from './transaction.js';
import type { OutboxEvent } from './types.js';

/** An event to enqueue. */
export interface OutboxEventInput {
  readonly eventType: string;
  /** Any JSON-serialisable value. */
  readonly payload: unknown;
  /** Not before this time (ms). Default: now. */
  readonly notBefore?: number;
}

/** Enqueues events; call it with the transaction that makes the change they describe. */
export async function enqueueEvents(
  db: Db,
  events: readonly OutboxEventInput[],
  now: number = Date.now(),
): Promise<number[]> {
  const ids: number[] = [];
  for (const part of chunk(events, 5)) {
    const rows = await db
      .insertInto('outbox')
      .values(
        part.map((e) => ({
          event_type: e.eventType,
          payload: JSON.stringify(e.payload ?? null),
          created_at: now,
          attempts: 0,
          next_attempt_at: e.notBefore ?? now,
        })),
      )
      .returning('id')
      .execute();
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** Options of {@link claimEvents}. */
export interface ClaimEventsOptions {
  /** Who holds the lease (a worker id). */
  readonly owner: string;
  /** Lease length in ms; an unfinished event is claimable again after it. */
  readonly leaseMs: number;
  readonly limit: number;
  /** Only these event types. Default: all. */
  readonly eventTypes?: readonly string[];
  readonly now?: number;
}

/**
 * Claims up to `limit` due events, oldest first, for `owner`; each claim counts
 * as an attempt. Exclusive: PostgreSQL uses `FOR UPDATE SKIP LOCKED`, SQLite one
 * atomic `UPDATE … RETURNING` under the write lock.
 */
export async function claimEvents(db: Db, options: ClaimEventsOptions): Promise<OutboxEvent[]> {
  const now = options.now ?? Date.now();
  const rows = await db
    .updateTable('outbox')
    .set((eb) => ({
      lease_owner: options.owner,
      lease_expires_at: now + options.leaseMs,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', 'in', dueEvents(db, now, options.limit, options.eventTypes))
    .returningAll()
    .execute();
  return rows.map(toEvent).sort((a, b) => a.id - b.id);
}

/** Marks event `id` done if `owner` still holds it; returns whether it did. */
export async function completeEvent(
  db: Db,
  id: number,
  owner: string,
  now: number = Date.now(),
): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ done_at: now, lease_owner: null, lease_expires_at: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('done_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Extends `owner`'s lease on event `id` (a hook still running); returns
 * whether `owner` still holds it. A worker renews while its hooks run, so the
 * lease can be short: a crashed worker's events run again soon after.
 */
export async function renewEventLease(
  db: Db,
  id: number,
  owner: string,
  leaseMs: number,
  now: number = Date.now(),
): Promise<boolean> {
  const r = await db
    .updateTable('outbox')
    .set({ lease_expires_at: now + leaseMs })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('done_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Marks done, in one statement, up to `limit` due events of `eventType` that
 * no worker holds, oldest first: for event types with nothing to run, so that
 * they do not pile up, without a claim and a completion per event. A bounded
 * batch keeps each write short however many events wait (a million after a
 * bulk submission); call again while it returns `limit`.
 * @returns how many events it completed.
 */
export async function completeDueEvents(
  db: Db,
  eventType: string,
  now: number = Date.now(),
  limit = 500,
): Promise<number> {
  const r = await db
    .updateTable('outbox')
    .set({ done_at: now, lease_owner: null, lease_expires_at: null })
    .where('id', 'in', dueEvents(db, now, limit, [eventType]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Ids of up to `limit` events due at `now` that no worker holds (of
 * `eventTypes`, default all), oldest first; on PostgreSQL their rows locked,
 * skipping rows another transaction holds.
 */
function dueEvents(db: Db, now: number, limit: number, eventTypes?: readonly string[]) {
  return db
    .selectFrom('outbox')
    .select('id')
    .where('done_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]))
    .$if(eventTypes !== undefined, (q) => q.where('event_type', 'in', eventTypes!))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .$if(isPg(db), (q) => q.forUpdate().skipLocked());
}

/** Backoff of {@link failEvent}. */
export interface Backoff {
  /** Delay after the first failure, ms. Default 1000. */
  readonly baseMs?: number;
  /** Longest delay, ms. Default 1 hour. */
  readonly maxMs?: number;
}

/**
 * Records a failed processing of event `id` and schedules the next try after
 * base·2^(attempts−1) ms (capped). Returns the next attempt time, or null if
 * `owner` no longer held the event.
 */
export async function failEvent(
  db: Db,
  id: number,
  owner: string,
  error: string,
  backoff: Backoff = {},
  now: number = Date.now(),
): Promise<number | null> {
  const row = await db
    .selectFrom('outbox')
    .select('attempts')
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('done_at', 'is', null)
    .executeTakeFirst();
  if (row === undefined) return null;
  const delay = Math.min(
    backoff.maxMs ?? 3_600_000,
    (backoff.baseMs ?? 1000) * 2 ** Math.max(0, row.attempts - 1),
  );
  const next = now + delay;
  const r = await db
    .updateTable('outbox')
    .set({
      next_attempt_at: next,
      last_error: error.slice(0, 10_000),
      lease_owner: null,
      lease_expires_at: null,
    })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1 ? next : null;
}

/** Events not done whose last try failed, oldest first. */
export async function listFailedEvents(db: Db, limit = 100): Promise<OutboxEvent[]> {
  const rows = await db
    .selectFrom('outbox')
    .selectAll()
    .where('done_at', 'is', null)
    .where('last_error', 'is not', null)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toEvent);
}

/** One event by id, or undefined. */
export async function getEvent(db: Db, id: number): Promise<OutboxEvent | undefined> {
  const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toEvent(row);
}

/** Events not done yet, per event type (for metrics). */
export async function countPendingEvents(db: Db): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('outbox')
    .select(['event_type', sql<number>`count(*)`.as('n')])
    .where('done_at', 'is', null)
    .groupBy('event_type')
    .execute();
  return new Map(rows.map((r) => [r.event_type, Number(r.n)]));
}

function toEvent(r: Selectable<OutboxTable>): OutboxEvent {
  return {
    id: r.id,
    eventType: r.event_type,
    payload: JSON.parse(r.payload) as unknown,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    doneAt: r.done_at,
  };
}
