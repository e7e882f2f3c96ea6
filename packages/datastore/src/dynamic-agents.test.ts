// Migration 0006 and the rule it serves: a dynamic-auth token resumes only the
// agents it created. Agents from before the migration (whoever made them) and
// operators' agents cannot be taken over by any token; their passwords stay.
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import {
  createAgentPassword,
  createDynamicAuthToken,
  createSessionPassword,
  useDynamicAuthToken,
  verifyAgentPassword,
} from './agent-auth.js';
import { createAgent } from './agents.js';
import { openDatastore } from './datastore.js';
import { StateConflictError } from './errors.js';
import { migrateToLatest } from './migrate.js';
import { DIALECTS, createTestDatabase } from './testing/test-database.js';

describe.each(DIALECTS)('dynamic-auth agents on %s', (dialect) => {
  it('after migration 0006, no token resumes an agent from before it, and its password still works', async () => {
    const database = await createTestDatabase(dialect);
    try {
      const raw = await openDatastore(database.uri, { migrate: false });
      await migrateToLatest(raw.db, dialect, '0005-input-edges');
      // Written as the code of the time wrote them.
      await sql`insert into agents (id, name, description, active, created_at) values ('a-old', 'old-builder', null, 1, 1)`.execute(
        raw.db,
      );
      await sql`insert into dynamic_auth_tokens (token_hash, created_at) values ('h', 1)`.execute(raw.db);
      expect(await raw.migrate()).toContain('0006-agent-credentials');
      const password = await createAgentPassword(raw.db, 'a-old');
      expect(await verifyAgentPassword(raw.db, 'a-old', password)).toBe(true);
      const { token } = await createDynamicAuthToken(raw.db);
      await expect(useDynamicAuthToken(raw.db, token, 'old-builder')).rejects.toMatchObject({
        code: 'token-not-for-agent',
      });
      await raw.close();
    } finally {
      await database.drop();
    }
  });

  it("a token creates an agent and resumes it; another token and an operator's agent are refused; sessions are capped", async () => {
    const database = await createTestDatabase(dialect);
    try {
      const store = await openDatastore(database.uri);
      const [one, two] = [await createDynamicAuthToken(store.db), await createDynamicAuthToken(store.db)];
      const made = await useDynamicAuthToken(store.db, one.token, 'dyn', ['x86_64-linux']);
      expect((await useDynamicAuthToken(store.db, one.token, 'dyn')).id).toBe(made.id);
      await expect(useDynamicAuthToken(store.db, two.token, 'dyn')).rejects.toBeInstanceOf(
        StateConflictError,
      );
      await createAgent(store.db, { name: 'by-operator' });
      await expect(useDynamicAuthToken(store.db, one.token, 'by-operator')).rejects.toMatchObject({
        code: 'token-not-for-agent',
      });
      const operatorPassword = await createAgentPassword(store.db, made.id);
      const sessions = [];
      for (let i = 0; i < 6; i++) sessions.push(await createSessionPassword(store.db, made.id));
      const valid = await Promise.all(sessions.map((p) => verifyAgentPassword(store.db, made.id, p)));
      expect(valid).toEqual([false, false, true, true, true, true]);
      // An operator's password for the same agent is not a session's: never dropped.
      expect(await verifyAgentPassword(store.db, made.id, operatorPassword)).toBe(true);
      await store.close();
    } finally {
      await database.drop();
    }
  });
});
