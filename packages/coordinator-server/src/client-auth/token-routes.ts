// Client-token routes of the client API: create, list, revoke. Bootstrap rule:
// over HTTP a token can be created only with a read-write token; while client
// auth is off (no token yet) `POST /client-tokens` answers 403 and says to
// create the first one on the coordinator host (`gbc client-token new`, or
// `createClientToken` from this package), so that nobody who merely reaches an
// open API can take it over.
import { adminRoutes } from '@gbc/protocol';
import type { Env, Hono } from 'hono';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { mountRoute } from '../http/validate.js';
import type { ClientAuth } from './client-auth.js';
import { createClientToken, listClientTokens, revokeClientToken } from './client-tokens.js';
import { ClientAuthError } from './errors.js';

/** Mounts `POST /client-tokens`, `GET /client-tokens` and `DELETE /client-token/{id}` on `app`. */
export function mountClientTokenRoutes<E extends Env>(
  app: Hono<E>,
  ctx: CoordinatorContext,
  auth: ClientAuth,
): void {
  const db = ctx.datastore.db;

  mountRoute(
    app,
    adminRoutes.createClientToken,
    async (c, { body }) => {
      if (!(await auth.enabled())) {
        throw new HttpError(
          'forbidden',
          'client auth is off: create the first client token on the coordinator host with `gbc client-token new` (library: createClientToken); later ones can be created here with a read-write token',
        );
      }
      const created = await createClientToken(db, body, ctx.clock.now());
      auth.invalidate();
      return c.json(created, 201);
    },
    { jsonBodyBytes: ctx.config.jsonBodyBytes },
  );

  mountRoute(app, adminRoutes.listClientTokens, async (c) =>
    c.json({ tokens: await listClientTokens(db) }, 200),
  );

  mountRoute(app, adminRoutes.revokeClientToken, async (c, { params }) => {
    try {
      await revokeClientToken(db, params.id, ctx.clock.now());
    } catch (error) {
      if (error instanceof ClientAuthError && error.code === 'token-not-found')
        throw new HttpError('not-found', error.message, { cause: error });
      throw error;
    }
    auth.invalidate();
    return c.body(null, 204);
  });
}
