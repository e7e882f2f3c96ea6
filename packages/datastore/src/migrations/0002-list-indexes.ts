// Migration 0002 (frozen): indexes tuned by the 1M-build list benchmark. A
// state-only filter (e.g. failed builds, newest first) read (state, system, id)
// and sorted 100k rows; (state, id) returns them in page order. The
// (state, priority, created_at, id) index served only the SQL-ordered claim
// (the coordinator allocates in memory) and cost every insert.
import type { Kysely, Migration } from 'kysely';

/** Adds builds(state, id) and drops builds_queue. */
export function listIndexes(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('builds_state_id').on('builds').columns(['state', 'id']).execute();
      await db.schema.dropIndex('builds_queue').execute();
    },
  };
}
