// Agent credentials: passwords (scrypt, several per agent, each found by the
// sha256 of the password, so a wrong one costs no scrypt at all) and
// dynamic-auth tokens (stored hashed) that create an agent on first use and
// resume only the agents they created.
import { hashPassword, hashToken, newSecret, verifyPassword } from './secrets.js';
import { createAgent, getAgentByName } from './agents.js';
import { NotFoundError, StateConflictError } from './errors.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { Agent } from './types.js';

/** Creates a new random password for agent `id`, stores its hash, returns the password (shown once). */
export async function createAgentPassword(db: Db, id: string, now: number = Date.now()): Promise<string> {
  const agent = await db.selectFrom('agents').select('id').where('id', '=', id).executeTakeFirst();
  if (agent === undefined) throw new NotFoundError('agent-not-found', `no agent ${id}`);
  const password = newSecret();
  await db
    .insertInto('agent_passwords')
    .values({
      agent_id: id,
      password_hash: await hashPassword(password),
      created_at: now,
      lookup: hashToken(password),
    })
    .execute();
  return password;
}

/**
 * True if `password` is one of agent `id`'s passwords and the agent is active.
 * The password's row is found by its sha256: a wrong password costs one
 * indexed read and no scrypt, however many passwords the agent has (a flood
 * of bad logins would otherwise fill the thread pool with scrypt work). Rows
 * from before migration 0006 have no lookup key: they are tried with scrypt,
 * and the one that matches gets its key.
 */
export async function verifyAgentPassword(db: Db, id: string, password: string): Promise<boolean> {
  const lookup = hashToken(password);
  const rows = await db
    .selectFrom('agent_passwords as p')
    .innerJoin('agents as a', 'a.id', 'p.agent_id')
    .select(['p.id', 'p.password_hash', 'p.lookup'])
    .where('p.agent_id', '=', id)
    .where('a.active', '=', 1)
    .where((eb) => eb.or([eb('p.lookup', '=', lookup), eb('p.lookup', 'is', null)]))
    .execute();
  const found = rows.find((r) => r.lookup === lookup);
  if (found !== undefined) return verifyPassword(password, found.password_hash);
  for (const row of rows) {
    if (await verifyPassword(password, row.password_hash)) {
      await db.updateTable('agent_passwords').set({ lookup }).where('id', '=', row.id).execute();
      return true;
    }
  }
  return false;
}

/** Creates a dynamic-auth token; returns its id and the token (shown once). */
export async function createDynamicAuthToken(
  db: Db,
  now: number = Date.now(),
): Promise<{ id: number; token: string }> {
  const token = newSecret();
  const row = await db
    .insertInto('dynamic_auth_tokens')
    .values({ token_hash: hashToken(token), created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: row.id, token };
}

/** Revokes dynamic-auth token `id`. */
export async function revokeDynamicAuthToken(db: Db, id: number, now: number = Date.now()): Promise<void> {
  await db
    .updateTable('dynamic_auth_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** True if `token` is a dynamic-auth token that is not revoked. */
export async function verifyDynamicAuthToken(db: Db, token: string): Promise<boolean> {
  return (await liveTokenId(db, token)) !== undefined;
}

async function liveTokenId(db: Db, token: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('dynamic_auth_tokens')
    .select('id')
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row === undefined ? undefined : Number(row.id);
}

/**
 * Authenticates an agent by dynamic-auth token and name: returns the agent of
 * that name, creating it (active, with `systems`) on first use. A token may
 * resume only an agent it created itself, never an operator's or another
 * token's agent.
 * @throws StateConflictError `token-invalid` if the token is unknown or revoked;
 * `token-not-for-agent` if the agent of that name was not created by this token.
 */
export async function useDynamicAuthToken(
  db: Db,
  token: string,
  agentName: string,
  systems: readonly string[] = [],
  now: number = Date.now(),
): Promise<Agent> {
  return inTransaction(db, async (trx) => {
    const tokenId = await liveTokenId(trx, token);
    if (tokenId === undefined)
      throw new StateConflictError('token-invalid', 'the dynamic-auth token is unknown or revoked');
    const existing = await trx
      .selectFrom('agents')
      .select(['id', 'created_by_token'])
      .where('name', '=', agentName)
      .executeTakeFirst();
    if (existing === undefined) {
      const agent = await createAgent(trx, { name: agentName, systems }, now);
      await trx.updateTable('agents').set({ created_by_token: tokenId }).where('id', '=', agent.id).execute();
      return agent;
    }
    if (existing.created_by_token === null || Number(existing.created_by_token) !== tokenId) {
      throw new StateConflictError(
        'token-not-for-agent',
        `the agent ${JSON.stringify(agentName)} was not created with this dynamic-auth token: a token resumes only the agents it created`,
      );
    }
    return (await getAgentByName(trx, agentName))!;
  });
}

/** Sessions' passwords kept per agent: each new session drops the oldest beyond this. */
export const SESSION_PASSWORDS_KEPT = 4;

/**
 * A new password for a dynamic-auth session of agent `id` (shown once). Only
 * the newest {@link SESSION_PASSWORDS_KEPT} session passwords stay valid, so
 * that sessions cannot pile up hashes every login check would scan.
 */
export async function createSessionPassword(db: Db, id: string, now: number = Date.now()): Promise<string> {
  return inTransaction(db, async (trx) => {
    const password = newSecret();
    await trx
      .insertInto('agent_passwords')
      .values({
        agent_id: id,
        password_hash: await hashPassword(password),
        created_at: now,
        from_session: 1,
        lookup: hashToken(password),
      })
      .execute();
    const kept = await trx
      .selectFrom('agent_passwords')
      .select('id')
      .where('agent_id', '=', id)
      .where('from_session', '=', 1)
      .orderBy('id', 'desc')
      .limit(SESSION_PASSWORDS_KEPT)
      .execute();
    await trx
      .deleteFrom('agent_passwords')
      .where('agent_id', '=', id)
      .where('from_session', '=', 1)
      .where(
        'id',
        'not in',
        kept.map((k) => k.id),
      )
      .execute();
    return password;
  });
}
