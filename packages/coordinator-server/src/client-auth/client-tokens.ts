// Client tokens as the protocol shows them (UUID ids, `read` / `read-write`
// scopes, ISO times), over @gbc/datastore's hashed token records. These are
// the library functions `gbc client-token new|list|revoke` call on the
// coordinator host: the safe way to create the first token, because once any
// token exists the HTTP routes for tokens need a read-write token themselves.
import {
  createClientToken as createRecord,
  listClientTokens as listRecords,
  revokeClientToken as revokeRecord,
} from '@gbc/datastore';
import type { ClientToken as TokenRecord, Db } from '@gbc/datastore';
import type { ClientToken, CreatedClientToken, TokenScope } from '@gbc/protocol';
import { ClientAuthError } from './errors.js';

/** Creates a client token; the secret (send as `Authorization: Bearer <secret>`) is returned once and stored only hashed. */
export async function createClientToken(
  db: Db,
  request: { readonly name: string; readonly scope: TokenScope },
  now: number = Date.now(),
): Promise<CreatedClientToken> {
  const name = request.name.trim();
  if (name.length === 0 || name.length > 255)
    throw new ClientAuthError(
      'invalid-token-name',
      'a client token needs a name of 1 to 255 characters (who or what uses it)',
    );
  const { record, token } = await createRecord(
    db,
    name,
    request.scope === 'read' ? 'read-only' : 'read-write',
    now,
  );
  return { token: toProtocol(record), secret: token };
}

/** Every live (not revoked) client token, never its secret. */
export async function listClientTokens(db: Db): Promise<ClientToken[]> {
  return (await listRecords(db)).filter((t) => t.revokedAt === null).map(toProtocol);
}

/**
 * Revokes the token with protocol id `id` (a UUID from {@link listClientTokens}).
 * @throws ClientAuthError `token-not-found` when no live token has that id.
 */
export async function revokeClientToken(db: Db, id: string, now: number = Date.now()): Promise<void> {
  if (!(await revokeRecord(db, id, now)))
    throw new ClientAuthError(
      'token-not-found',
      `no live client token ${id}; list them with \`gbc client-token list\``,
    );
}

/** The protocol's view of a datastore token record. */
export function toProtocol(t: TokenRecord): ClientToken {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope === 'read-only' ? 'read' : 'read-write',
    createdAt: new Date(t.createdAt).toISOString(),
    lastUsedAt: null,
  };
}
