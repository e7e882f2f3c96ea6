// Agents and credentials on both dialects: agents, passwords (scrypt),
// dynamic-auth tokens, client tokens, status.
import { describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  createAgentPassword,
  createDynamicAuthToken,
  revokeDynamicAuthToken,
  useDynamicAuthToken,
  verifyAgentPassword,
  verifyDynamicAuthToken,
} from './agent-auth.js';
import {
  createAgent,
  getAgent,
  listAgents,
  recordAgentStatus,
  setAgentActive,
  setAgentSystems,
  setAgentTags,
} from './agents.js';
import {
  createClientToken,
  hasClientTokens,
  listClientTokens,
  revokeClientToken,
  verifyClientToken,
} from './client-tokens.js';
import { NotFoundError, StateConflictError } from './errors.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('agents on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it('creates, lists, shows and changes agents', async () => {
    const made = await createAgent(
      ctx.store.db,
      {
        name: 'builder-1',
        description: 'x86 box',
        tags: [{ key: 'arch', value: 'x86' }],
        systems: ['x86_64-linux', 'i686-linux'],
      },
      10,
    );
    expect(made).toEqual({
      id: made.id,
      name: 'builder-1',
      description: 'x86 box',
      active: true,
      createdAt: 10,
      tags: [{ key: 'arch', value: 'x86' }],
      systems: ['i686-linux', 'x86_64-linux'],
      status: null,
      statusAt: null,
    });
    await expect(createAgent(ctx.store.db, { name: 'builder-1' })).rejects.toBeInstanceOf(StateConflictError);
    await setAgentActive(ctx.store.db, made.id, false);
    await setAgentTags(ctx.store.db, made.id, [{ key: 'fast', value: 'yes' }]);
    await setAgentSystems(ctx.store.db, made.id, ['aarch64-linux']);
    await recordAgentStatus(ctx.store.db, made.id, { load: 1.5, builds: ['a'] }, 20);
    expect(await getAgent(ctx.store.db, made.id)).toMatchObject({
      active: false,
      tags: [{ key: 'fast', value: 'yes' }],
      systems: ['aarch64-linux'],
      status: { load: 1.5, builds: ['a'] },
      statusAt: 20,
    });
    expect((await listAgents(ctx.store.db)).map((a) => a.name)).toContain('builder-1');
    await expect(setAgentActive(ctx.store.db, 'nope', true)).rejects.toBeInstanceOf(NotFoundError);
    await expect(setAgentTags(ctx.store.db, 'nope', [])).rejects.toBeInstanceOf(NotFoundError);
  });

  it('stores passwords as salted scrypt hashes and verifies them', async () => {
    const a = await createAgent(ctx.store.db, { name: 'pw' });
    const p1 = await createAgentPassword(ctx.store.db, a.id);
    const p2 = await createAgentPassword(ctx.store.db, a.id);
    expect(p1).not.toBe(p2);
    const stored = await ctx.store.db
      .selectFrom('agent_passwords')
      .select('password_hash')
      .where('agent_id', '=', a.id)
      .execute();
    expect(stored.length).toBe(2);
    for (const s of stored) {
      expect(s.password_hash).toMatch(/^scrypt\$/);
      expect(s.password_hash).not.toContain(p1);
    }
    expect(await verifyAgentPassword(ctx.store.db, a.id, p1)).toBe(true);
    expect(await verifyAgentPassword(ctx.store.db, a.id, p2)).toBe(true);
    expect(await verifyAgentPassword(ctx.store.db, a.id, `${p1}x`)).toBe(false);
    await setAgentActive(ctx.store.db, a.id, false);
    expect(await verifyAgentPassword(ctx.store.db, a.id, p1)).toBe(false);
    await expect(createAgentPassword(ctx.store.db, 'nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates an agent on first use of a dynamic-auth token and refuses revoked tokens', async () => {
    const { id, token } = await createDynamicAuthToken(ctx.store.db);
    const raw = await sql<{
      n: number;
    }>`select count(*) as n from dynamic_auth_tokens where token_hash = ${token}`.execute(ctx.store.db);
    expect(Number(raw.rows[0]?.n)).toBe(0);
    expect(await verifyDynamicAuthToken(ctx.store.db, token)).toBe(true);
    const first = await useDynamicAuthToken(ctx.store.db, token, 'dyn-1', ['x86_64-linux']);
    const again = await useDynamicAuthToken(ctx.store.db, token, 'dyn-1');
    expect(again.id).toBe(first.id);
    expect(first.systems).toEqual(['x86_64-linux']);
    await revokeDynamicAuthToken(ctx.store.db, id);
    await expect(useDynamicAuthToken(ctx.store.db, token, 'dyn-2')).rejects.toMatchObject({
      code: 'token-invalid',
    });
    await expect(useDynamicAuthToken(ctx.store.db, 'made-up', 'dyn-3')).rejects.toMatchObject({
      code: 'token-invalid',
    });
  });

  it('issues, verifies and revokes client tokens by scope', async () => {
    expect(await hasClientTokens(ctx.store.db)).toBe(false);
    const ro = await createClientToken(ctx.store.db, 'dashboard', 'read-only', 5);
    const rw = await createClientToken(ctx.store.db, 'ci', 'read-write');
    expect(await hasClientTokens(ctx.store.db)).toBe(true);
    expect(await verifyClientToken(ctx.store.db, ro.token)).toEqual({
      id: ro.record.id,
      name: 'dashboard',
      scope: 'read-only',
      createdAt: 5,
      revokedAt: null,
    });
    expect((await verifyClientToken(ctx.store.db, rw.token))?.scope).toBe('read-write');
    expect(await verifyClientToken(ctx.store.db, 'gbc_wrong')).toBeUndefined();
    expect(await revokeClientToken(ctx.store.db, ro.record.id, 9)).toBe(true);
    expect(await revokeClientToken(ctx.store.db, ro.record.id, 9)).toBe(false);
    expect(await verifyClientToken(ctx.store.db, ro.token)).toBeUndefined();
    expect((await listClientTokens(ctx.store.db)).map((t) => t.revokedAt)).toEqual([9, null]);
  });
});
