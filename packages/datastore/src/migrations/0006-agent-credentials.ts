// Migration 0006 (frozen): agent credentials an attacker cannot abuse.
// - A dynamic-auth token may resume only the agents it created. Until now
//   `POST /agent/session {name, token}` handed a working password for ANY
//   agent of that name, an operator's included. Agents now remember the token
//   that created them (null: made by an operator, or before this migration,
//   so no token can resume them).
// - Passwords minted for sessions are marked, so that their number per agent
//   can be capped.
// - Each password gets a lookup key (sha256 of the password, which is a
//   random 256-bit secret): a login finds its one candidate by it, so a wrong
//   password costs one indexed read instead of an scrypt per stored password.
//   Rows from before have none until their first successful login fills it.
import type { Kysely, Migration } from 'kysely';

/** Adds agents.created_by_token, agent_passwords.from_session and agent_passwords.lookup. */
export function agentCredentials(): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('agents').addColumn('created_by_token', 'bigint').execute();
      await db.schema
        .alterTable('agent_passwords')
        .addColumn('from_session', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('agent_passwords').addColumn('lookup', 'text').execute();
      await db.schema.createIndex('agent_passwords_lookup').on('agent_passwords').column('lookup').execute();
    },
  };
}
