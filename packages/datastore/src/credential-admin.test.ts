// Listing and revoking agent passwords and dynamic-auth tokens on both
// dialects: a revoked password stops verifying, other agents' passwords are
// out of reach, a revoked token ends the sessions it minted and nothing else.
import { describe, expect, it } from 'vitest';
import {
  createAgentPassword,
  createDynamicAuthToken,
  createSessionPassword,
  useDynamicAuthToken,
  verifyAgentPassword,
} from './agent-auth.js';
import { createAgent } from './agents.js';
import {
  listAgentPasswords,
  listDynamicAuthTokens,
  revokeAgentPassword,
  revokeDynamicAuthTokenSessions,
} from './credential-admin.js';
import { NotFoundError } from './errors.js';
import { DIALECTS } from './testing/test-database.js';
import { useDatastore } from './testing/use-datastore.js';

describe.each(DIALECTS)('credential administration on %s', (dialect) => {
  const ctx = useDatastore(dialect);

  it("lists an agent's passwords without their hashes and revokes one of them", async () => {
    const a = await createAgent(ctx.store.db, { name: 'pw-admin' });
    const b = await createAgent(ctx.store.db, { name: 'pw-other' });
    const first = await createAgentPassword(ctx.store.db, a.id, 10);
    const second = await createAgentPassword(ctx.store.db, a.id, 20);
    const others = await createAgentPassword(ctx.store.db, b.id, 30);
    const listed = await listAgentPasswords(ctx.store.db, a.id);
    expect(listed.map((p) => [p.createdAt, p.fromSession])).toEqual([
      [10, false],
      [20, false],
    ]);
    expect(Object.keys(listed[0]!).sort()).toEqual(['createdAt', 'fromSession', 'id']);
    const otherId = (await listAgentPasswords(ctx.store.db, b.id))[0]!.id;
    // Another agent's password id through this agent: not found, and it stays.
    await expect(revokeAgentPassword(ctx.store.db, a.id, otherId)).rejects.toMatchObject({
      code: 'password-not-found',
    });
    expect(await verifyAgentPassword(ctx.store.db, b.id, others)).toBe(true);
    await revokeAgentPassword(ctx.store.db, a.id, listed[0]!.id);
    expect(await verifyAgentPassword(ctx.store.db, a.id, first)).toBe(false);
    expect(await verifyAgentPassword(ctx.store.db, a.id, second)).toBe(true);
    await expect(revokeAgentPassword(ctx.store.db, a.id, listed[0]!.id)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(listAgentPasswords(ctx.store.db, 'nope')).rejects.toMatchObject({ code: 'agent-not-found' });
  });

  it("lists tokens with the agents they made; revoking one ends its sessions and keeps operators' passwords", async () => {
    const one = await createDynamicAuthToken(ctx.store.db, 5);
    const two = await createDynamicAuthToken(ctx.store.db, 6);
    const made = await useDynamicAuthToken(ctx.store.db, one.token, 'dyn-admin-1');
    const kept = await useDynamicAuthToken(ctx.store.db, two.token, 'dyn-admin-2');
    const session = await createSessionPassword(ctx.store.db, made.id);
    const operators = await createAgentPassword(ctx.store.db, made.id);
    const otherSession = await createSessionPassword(ctx.store.db, kept.id);
    const before = (await listDynamicAuthTokens(ctx.store.db)).filter(
      (t) => t.id === one.id || t.id === two.id,
    );
    expect(before).toEqual([
      { id: one.id, createdAt: 5, revokedAt: null, agents: [made.id] },
      { id: two.id, createdAt: 6, revokedAt: null, agents: [kept.id] },
    ]);
    expect(await revokeDynamicAuthTokenSessions(ctx.store.db, one.id, 50)).toEqual({
      agents: [made.id],
      sessionPasswords: 1,
    });
    expect(await verifyAgentPassword(ctx.store.db, made.id, session)).toBe(false);
    expect(await verifyAgentPassword(ctx.store.db, made.id, operators)).toBe(true);
    expect(await verifyAgentPassword(ctx.store.db, kept.id, otherSession)).toBe(true);
    await expect(useDynamicAuthToken(ctx.store.db, one.token, 'dyn-admin-1')).rejects.toMatchObject({
      code: 'token-invalid',
    });
    // Revoking again keeps the first date.
    expect(await revokeDynamicAuthTokenSessions(ctx.store.db, one.id, 60)).toEqual({
      agents: [made.id],
      sessionPasswords: 0,
    });
    expect((await listDynamicAuthTokens(ctx.store.db)).find((t) => t.id === one.id)?.revokedAt).toBe(50);
    await expect(revokeDynamicAuthTokenSessions(ctx.store.db, 999_999, 1)).rejects.toMatchObject({
      code: 'token-not-found',
    });
  });
});
