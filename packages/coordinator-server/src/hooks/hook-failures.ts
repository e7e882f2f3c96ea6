// What the client API and the metrics show of hooks: events whose last run
// failed (with the error and the number of tries) and the queue per type.
import { countPendingEvents, listFailedEvents, type Db } from '@gbc/datastore';

/** An outbox event whose last run failed and that will be tried again. */
export interface HookFailure {
  readonly id: number;
  readonly eventType: string;
  readonly build: string | null;
  readonly attempts: number;
  readonly lastError: string;
  /** When it will be tried next (ms since the epoch). */
  readonly nextAttemptAt: number;
  readonly createdAt: number;
}

/** Failing hook events, oldest first (at most `limit`, default 100). */
export async function listHookFailures(db: Db, limit = 100): Promise<HookFailure[]> {
  return (await listFailedEvents(db, limit)).map((e) => {
    const p = e.payload as { build?: unknown } | null;
    return {
      id: e.id,
      eventType: e.eventType,
      build: typeof p?.build === 'string' ? p.build : null,
      attempts: e.attempts,
      lastError: e.lastError ?? '',
      nextAttemptAt: e.nextAttemptAt,
      createdAt: e.createdAt,
    };
  });
}

/** Events not yet done per event type (the hook queue depth). */
export function hookQueueDepth(db: Db): Promise<Map<string, number>> {
  return countPendingEvents(db);
}
