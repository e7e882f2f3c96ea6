// Agents: create, list, show, activate/deactivate, tags, systems and status.
import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { NotFoundError, StateConflictError } from './errors.js';
import type { AgentsTable } from './schema.js';
import { inTransaction } from './transaction.js';
import type { Db } from './transaction.js';
import type { Agent, Tag } from './types.js';

/** Fields of a new agent. */
export interface AgentInput {
  readonly name: string;
  readonly description?: string | null;
  /** Default true. */
  readonly active?: boolean;
  readonly tags?: readonly Tag[];
  readonly systems?: readonly string[];
  /** Use this UUID instead of a random one. */
  readonly id?: string;
}

/**
 * Creates an agent.
 * @throws StateConflictError `agent-name-taken` if an agent has this name.
 */
export async function createAgent(db: Db, input: AgentInput, now: number = Date.now()): Promise<Agent> {
  const id = input.id ?? randomUUID();
  await inTransaction(db, async (trx) => {
    const taken = await trx
      .selectFrom('agents')
      .select('id')
      .where('name', '=', input.name)
      .executeTakeFirst();
    if (taken !== undefined)
      throw new StateConflictError(
        'agent-name-taken',
        `an agent named ${JSON.stringify(input.name)} exists already (${taken.id})`,
      );
    await trx
      .insertInto('agents')
      .values({
        id,
        name: input.name,
        description: input.description ?? null,
        active: input.active === false ? 0 : 1,
        created_at: now,
      })
      .execute();
    await setAgentTags(trx, id, input.tags ?? []);
    await setAgentSystems(trx, id, input.systems ?? []);
  });
  return (await getAgent(db, id))!;
}

/** All agents, by name. */
export async function listAgents(db: Db): Promise<Agent[]> {
  const rows = await db.selectFrom('agents').selectAll().orderBy('name').execute();
  return withDetails(db, rows);
}

/** The agent `id`, or undefined. */
export async function getAgent(db: Db, id: string): Promise<Agent | undefined> {
  const rows = await db.selectFrom('agents').selectAll().where('id', '=', id).execute();
  return (await withDetails(db, rows))[0];
}

/** The agent named `name`, or undefined. */
export async function getAgentByName(db: Db, name: string): Promise<Agent | undefined> {
  const rows = await db.selectFrom('agents').selectAll().where('name', '=', name).execute();
  return (await withDetails(db, rows))[0];
}

/** Activates or deactivates agent `id`. */
export async function setAgentActive(db: Db, id: string, active: boolean): Promise<void> {
  const r = await db
    .updateTable('agents')
    .set({ active: active ? 1 : 0 })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound(id);
}

/** Replaces the tags of agent `id`. */
export async function setAgentTags(db: Db, id: string, tags: readonly Tag[]): Promise<void> {
  await inTransaction(db, async (trx) => {
    await ensureAgent(trx, id);
    await trx.deleteFrom('agent_tags').where('agent_id', '=', id).execute();
    const unique = new Map(tags.map((t) => [`${t.key}\u0000${t.value}`, t]));
    if (unique.size > 0)
      await trx
        .insertInto('agent_tags')
        .values([...unique.values()].map((t) => ({ agent_id: id, key: t.key, value: t.value })))
        .execute();
  });
}

/** Replaces the systems of agent `id`. */
export async function setAgentSystems(db: Db, id: string, systems: readonly string[]): Promise<void> {
  await inTransaction(db, async (trx) => {
    await ensureAgent(trx, id);
    await trx.deleteFrom('agent_systems').where('agent_id', '=', id).execute();
    const unique = [...new Set(systems)];
    if (unique.length > 0)
      await trx
        .insertInto('agent_systems')
        .values(unique.map((system) => ({ agent_id: id, system })))
        .execute();
  });
}

/** Records the status an agent reported (any JSON value) and when. */
export async function recordAgentStatus(
  db: Db,
  id: string,
  status: unknown,
  now: number = Date.now(),
): Promise<void> {
  const r = await db
    .updateTable('agents')
    .set({ status_json: JSON.stringify(status ?? null), status_at: now })
    .where('id', '=', id)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) throw notFound(id);
}

async function ensureAgent(db: Db, id: string): Promise<void> {
  const row = await db.selectFrom('agents').select('id').where('id', '=', id).executeTakeFirst();
  if (row === undefined) throw notFound(id);
}

function notFound(id: string): NotFoundError {
  return new NotFoundError('agent-not-found', `no agent ${id}`);
}

async function withDetails(db: Db, rows: readonly Selectable<AgentsTable>[]): Promise<Agent[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [tags, systems] = await Promise.all([
    db
      .selectFrom('agent_tags')
      .selectAll()
      .where('agent_id', 'in', ids)
      .orderBy('key')
      .orderBy('value')
      .execute(),
    db.selectFrom('agent_systems').selectAll().where('agent_id', 'in', ids).orderBy('system').execute(),
  ]);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    active: r.active === 1,
    createdAt: r.created_at,
    tags: tags.filter((t) => t.agent_id === r.id).map((t) => ({ key: t.key, value: t.value })),
    systems: systems.filter((s) => s.agent_id === r.id).map((s) => s.system),
    status: r.status_json === null ? null : (JSON.parse(r.status_json) as unknown),
    statusAt: r.status_at,
  }));
}
