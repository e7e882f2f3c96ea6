// Operators' view of agent credentials: an agent's passwords listed (ids and
// dates, never hashes) and revoked one by one; dynamic-auth tokens listed with
// the agents they created, and revoked together with the session passwords
// they minted. Revocation is a delete (or a revoked_at stamp for tokens); the
// coordinator's agent auth drops its cached successes for the agents named in
// the answer, so a revoked password stops working at once.
import { NotFoundError } from './errors.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';

/** One of an agent's passwords as an operator sees it. */
export interface AgentPasswordInfo {
  readonly id: number;
  readonly createdAt: number;
  /** Minted by a dynamic-auth session (true) or by an operator (false). */
  readonly fromSession: boolean;
}

/**
 * Agent `agentId`'s passwords, oldest first.
 * @throws NotFoundError `agent-not-found`.
 */
export async function listAgentPasswords(db: Db, agentId: string): Promise<AgentPasswordInfo[]> {
  await existingAgent(db, agentId);
  const rows = await db
    .selectFrom('agent_passwords')
    .select(['id', 'created_at', 'from_session'])
    .where('agent_id', '=', agentId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    createdAt: Number(r.created_at),
    fromSession: Number(r.from_session) === 1,
  }));
}

/**
 * Deletes password `passwordId` of agent `agentId`.
 * @throws NotFoundError `agent-not-found`, or `password-not-found` when the agent has no such password.
 */
export async function revokeAgentPassword(db: Db, agentId: string, passwordId: number): Promise<void> {
  await existingAgent(db, agentId);
  const result = await db
    .deleteFrom('agent_passwords')
    .where('agent_id', '=', agentId)
    .where('id', '=', passwordId)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0)
    throw new NotFoundError('password-not-found', `agent ${agentId} has no password ${passwordId}`);
}

/** A dynamic-auth token as an operator sees it (never the token or its hash). */
export interface DynamicAuthTokenInfo {
  readonly id: number;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** UUIDs of the agents the token created, oldest first. */
  readonly agents: string[];
}

/** Every dynamic-auth token, oldest first, with the agents it created. */
export async function listDynamicAuthTokens(db: Db): Promise<DynamicAuthTokenInfo[]> {
  const tokens = await db
    .selectFrom('dynamic_auth_tokens')
    .select(['id', 'created_at', 'revoked_at'])
    .orderBy('id')
    .execute();
  const made = await db
    .selectFrom('agents')
    .select(['id', 'created_by_token'])
    .where('created_by_token', 'is not', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const byToken = new Map<number, string[]>();
  for (const a of made) {
    const list = byToken.get(Number(a.created_by_token)) ?? [];
    list.push(a.id);
    byToken.set(Number(a.created_by_token), list);
  }
  return tokens.map((t) => ({
    id: Number(t.id),
    createdAt: Number(t.created_at),
    revokedAt: t.revoked_at === null ? null : Number(t.revoked_at),
    agents: byToken.get(Number(t.id)) ?? [],
  }));
}

/** What revoking a dynamic-auth token did. */
export interface DynamicAuthRevocation {
  /** The agents the token created: their session passwords are gone, their operator passwords stay. */
  readonly agents: string[];
  /** Session passwords removed. */
  readonly sessionPasswords: number;
}

/**
 * Revokes dynamic-auth token `id` (again: a no-op for the token) and deletes
 * the session passwords it minted for the agents it created, so that a leaked
 * token's sessions end with it. The agents themselves stay, with their
 * builds and any password an operator gave them.
 * @throws NotFoundError `token-not-found`.
 */
export async function revokeDynamicAuthTokenSessions(
  db: Db,
  id: number,
  now: number = Date.now(),
): Promise<DynamicAuthRevocation> {
  return inTransaction(db, async (trx) => {
    const token = await trx
      .selectFrom('dynamic_auth_tokens')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (token === undefined) throw new NotFoundError('token-not-found', `no dynamic-auth token ${id}`);
    await trx
      .updateTable('dynamic_auth_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const agents = (
      await trx
        .selectFrom('agents')
        .select('id')
        .where('created_by_token', '=', id)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
    ).map((a) => a.id);
    if (agents.length === 0) return { agents, sessionPasswords: 0 };
    const deleted = await trx
      .deleteFrom('agent_passwords')
      .where('agent_id', 'in', agents)
      .where('from_session', '=', 1)
      .executeTakeFirst();
    return { agents, sessionPasswords: Number(deleted.numDeletedRows) };
  });
}

async function existingAgent(db: Db, agentId: string): Promise<void> {
  const agent = await db.selectFrom('agents').select('id').where('id', '=', agentId).executeTakeFirst();
  if (agent === undefined) throw new NotFoundError('agent-not-found', `no agent ${agentId}`);
}
