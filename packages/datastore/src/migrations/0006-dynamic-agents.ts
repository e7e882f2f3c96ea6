// Migration 0006 (frozen): a dynamic-auth token may resume only the agents it
// created. Until now `POST /agent/session {name, token}` handed a working
// password for ANY agent of that name, an operator's included. Agents now
// remember the token that created them (null: made by an operator, or before
// this migration, so no token can resume them), and the passwords minted for
// sessions are marked, so that their number per agent can be capped.
import type { Kysely, Migration } from 'kysely';

/** Adds agents.created_by_token and agent_passwords.from_session. */
export function dynamicAgents(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('agents').addColumn('created_by_token', 'bigint').execute();
      await db.schema.alterTable('agent_passwords').addColumn('from_session', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  };
}
