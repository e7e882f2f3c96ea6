// Revoking agent credentials over real HTTP (issue 19, item 2): an operator
// lists an agent's passwords (ids and dates, never hashes) and revokes one,
// lists dynamic-auth tokens with the agents they made and revokes one. The
// agent auth trusts a checked password for 30 s; a revoked one must be
// refused from the very next call all the same, while the agent's other
// passwords keep working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient, ProtocolError } from '@gbc/protocol';
import { createCoordinator, type Coordinator } from '../coordinator/create-coordinator.js';
import { listen, type Listening } from '../coordinator/listen.js';
import { silentLogger } from '../logger.js';
import { createTestPlace, type TestPlace } from '../agent-api/test-support.js';

describe.each(['sqlite', 'postgres'] as const)('credential revocation on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let listening: Listening;
  let client: CoordinatorClient;
  beforeAll(async () => {
    place = createTestPlace(dialect);
    // The default 30 s success cache: what makes "at once" worth testing.
    c = await createCoordinator({
      databaseUri: place.databaseUri,
      dataDir: `${place.dir}/data`,
      cwd: place.dir,
      logger: silentLogger,
    });
    await c.start();
    listening = await listen(c, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
    client = new CoordinatorClient({ baseUrl: listening.clientUrl });
  });
  afterAll(async () => {
    await listening.close();
    await c.stop();
    place.remove();
  });

  const basic = (agent: string, password: string) =>
    `Basic ${Buffer.from(`${agent}:${password}`).toString('base64')}`;
  const status = (agent: string, password: string) =>
    fetch(`${listening.agentUrl}/agent/${agent}/status`, {
      method: 'PUT',
      headers: { Authorization: basic(agent, password), 'Content-Type': 'application/json' },
      body: JSON.stringify({ load1: 0, builds: [] }),
    }).then((r) => r.status);
  const session = async (name: string, token: string) => {
    const res = await fetch(`${listening.agentUrl}/agent/session`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, token }),
    });
    return {
      status: res.status,
      body: res.ok ? ((await res.json()) as { agent: string; password: string }) : undefined,
    };
  };
  const codeOf = async (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof ProtocolError ? e.code : String(e)),
    );

  it("lists an agent's passwords without secrets; a revoked one is refused at the next call, the other still works", async () => {
    const made = await client.createAgent({ name: 'revoked-builder' });
    const first = made.password!;
    const second = (await client.newAgentPassword(made.agent.uuid)).password;
    // Both checked, so both are in the agent auth's 30 s cache.
    expect([await status(made.agent.uuid, first), await status(made.agent.uuid, second)]).toEqual([200, 200]);

    const listed = await client.listAgentPasswords(made.agent.uuid);
    expect(listed.passwords.map((p) => p.session)).toEqual([false, false]);
    const raw = await (await fetch(`${listening.clientUrl}/agent/${made.agent.uuid}/passwords`)).text();
    expect(raw).not.toContain('scrypt');
    expect(raw).not.toContain(first);

    await client.revokeAgentPassword(made.agent.uuid, listed.passwords[0]!.id);
    expect(await status(made.agent.uuid, first)).toBe(401);
    expect(await status(made.agent.uuid, second)).toBe(200);
    expect((await client.listAgentPasswords(made.agent.uuid)).passwords.map((p) => p.id)).toEqual([
      listed.passwords[1]!.id,
    ]);

    // Hostile: another agent's password through this agent, an id that is no number, an unknown agent.
    const other = await client.createAgent({ name: 'other-builder' });
    const otherId = (await client.listAgentPasswords(other.agent.uuid)).passwords[0]!.id;
    expect(await codeOf(client.revokeAgentPassword(made.agent.uuid, otherId))).toBe('not-found');
    expect(await status(other.agent.uuid, other.password!)).toBe(200);
    expect(
      (await fetch(`${listening.clientUrl}/agent/${made.agent.uuid}/password/1e3`, { method: 'DELETE' }))
        .status,
    ).toBe(400);
    expect(
      (await fetch(`${listening.clientUrl}/agent/${made.agent.uuid}/password/-1`, { method: 'DELETE' }))
        .status,
    ).toBe(400);
    expect(
      (
        await fetch(`${listening.clientUrl}/agent/${made.agent.uuid}/password/99999999999999999999`, {
          method: 'DELETE',
        })
      ).status,
    ).toBe(400);
    expect(await codeOf(client.listAgentPasswords('00000000-0000-4000-8000-000000000000'))).toBe('not-found');
  });

  it('lists dynamic-auth tokens with their agents; revoking one ends its sessions at once and opens no new ones', async () => {
    const token = await client.createDynamicAuthToken();
    const other = await client.createDynamicAuthToken();
    const mine = await session('dyn-revoked', token.token);
    const theirs = await session('dyn-kept', other.token);
    expect([mine.status, theirs.status]).toEqual([200, 200]);
    expect(await status(mine.body!.agent, mine.body!.password)).toBe(200);

    const listed = (await client.listDynamicAuthTokens()).tokens;
    expect(listed.find((t) => t.id === token.id)).toMatchObject({
      revokedAt: null,
      agents: [mine.body!.agent],
    });
    expect(JSON.stringify(listed)).not.toContain(token.token);

    expect(await client.revokeDynamicAuthToken(token.id!)).toEqual({
      agents: [mine.body!.agent],
      sessionPasswords: 1,
    });
    expect(await status(mine.body!.agent, mine.body!.password)).toBe(401);
    expect((await session('dyn-revoked', token.token)).status).toBe(401);
    expect((await session('dyn-new', token.token)).status).toBe(401);
    expect(await status(theirs.body!.agent, theirs.body!.password)).toBe(200);
    expect(
      (await client.listDynamicAuthTokens()).tokens.find((t) => t.id === token.id)?.revokedAt,
    ).not.toBeNull();
    expect(await codeOf(client.revokeDynamicAuthToken(987_654))).toBe('not-found');
    expect((await fetch(`${listening.clientUrl}/dynamic-auth-token/abc`, { method: 'DELETE' })).status).toBe(
      400,
    );
  });
});
