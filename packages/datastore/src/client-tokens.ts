// Client API bearer tokens: stored as sha256, read-only or read-write, revocable.
import type { Selectable } from 'kysely';
import { hashToken, newSecret } from './secrets.js';
import type { ClientTokensTable } from './schema.js';
import type { Db } from './transaction.js';
import type { ClientToken, ClientTokenScope } from './types.js';
import { uuidV7 } from './uuid-v7.js';

/** Creates a client token; returns its record and the token (shown once). */
export async function createClientToken(
  db: Db,
  name: string,
  scope: ClientTokenScope,
  now: number = Date.now(),
): Promise<{ record: ClientToken; token: string }> {
  const token = `gbc_${newSecret()}`;
  const row = await db
    .insertInto('client_tokens')
    .values({ uuid: uuidV7(now), name, scope, token_hash: hashToken(token), created_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { record: toToken(row), token };
}

/** The record of `token` if it exists and is not revoked, else undefined. */
export async function verifyClientToken(db: Db, token: string): Promise<ClientToken | undefined> {
  const row = await db
    .selectFrom('client_tokens')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row === undefined ? undefined : toToken(row);
}

/** Revokes the token of UUID `uuid`; returns whether it was live (false also for an unknown UUID). */
export async function revokeClientToken(db: Db, uuid: string, now: number = Date.now()): Promise<boolean> {
  const r = await db
    .updateTable('client_tokens')
    .set({ revoked_at: now })
    .where('uuid', '=', uuid.toLowerCase())
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Every client token record, revoked ones included. */
export async function listClientTokens(db: Db): Promise<ClientToken[]> {
  return (await db.selectFrom('client_tokens').selectAll().orderBy('id').execute()).map(toToken);
}

/** Whether any live client token exists (if none, the client API is open). */
export async function hasClientTokens(db: Db): Promise<boolean> {
  return (
    (await db
      .selectFrom('client_tokens')
      .select('id')
      .where('revoked_at', 'is', null)
      .limit(1)
      .executeTakeFirst()) !== undefined
  );
}

function toToken(r: Selectable<ClientTokensTable>): ClientToken {
  return {
    id: r.uuid,
    name: r.name,
    scope: r.scope as ClientTokenScope,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}
