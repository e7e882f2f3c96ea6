// Migration 0007 (frozen): an agent's finished attempts, newest first, read
// through an index instead of a scan of every attempt (the dashboard's and
// `GET /agent/{uuid}`'s recent builds of an agent, on farms with millions of
// attempts). Partial, like attempts_open_agent beside it: only ended attempts.
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/** Adds the index attempts_ended_agent on attempts (agent_id, id) where ended_at is not null. */
export function agentRecentAttempts(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createIndex('attempts_ended_agent')
        .on('attempts')
        .columns(['agent_id', 'id'])
        .where(sql.ref('ended_at'), 'is not', null)
        .execute();
    },
  };
}
