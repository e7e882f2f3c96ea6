// Bearer-token authentication of the client API, as one Hono middleware.
// Auth is on when the configuration says `clientAuth: 'required'` or once any
// client token was ever created (revoked ones count: revoking every token
// must not reopen the API). Then each request needs the access its route
// declares in @gbc/protocol's table: 401 without a token or with an unknown
// or revoked one, 403 for a read-only token on a write route; a refused
// request never reaches its handler, so it changes nothing. Verdicts (and
// whether auth is on) are cached for `clientTokenCacheMs`: a token revoked by
// another process stops working within that time, one revoked through this
// app at once. Requests the read-only dashboard makes in process (and only
// those: a request from the network is never in the set) are admitted as a
// reader without a token, and refused every write, even while auth is off.
import type { MiddlewareHandler } from 'hono';
import { verifyClientToken } from '@gbc/datastore';
import type { ClientToken as TokenRecord } from '@gbc/datastore';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { requiredAccess } from './route-access.js';

/** The client API's authentication state; see the file header. */
export interface ClientAuth {
  /** Refuses requests that lack the access their route needs. */
  readonly middleware: MiddlewareHandler;
  /** Whether client requests need a token now. */
  enabled(): Promise<boolean>;
  /** Forgets cached verdicts (after a token was created or revoked). */
  invalidate(): void;
  /**
   * Admits `request`, made in this process by the read-only dashboard, as a
   * reader without a token: it may read what a read-only token may, and
   * nothing that changes state. Returns `request`.
   */
  admitAsReader(request: Request): Request;
}

type Ctx = Pick<CoordinatorContext, 'datastore' | 'config' | 'clock'>;

/** Most verdicts cached at once; past it the cache starts over (wrong tokens cannot grow memory). */
const MAX_CACHED = 10_000;

/** Creates the client API's authentication over `ctx`'s datastore. */
export function createClientAuth(ctx: Ctx): ClientAuth {
  const ttl = ctx.config.clientTokenCacheMs;
  let on: { value: boolean; until: number } | undefined;
  const verdicts = new Map<string, { record: TokenRecord | undefined; until: number }>();
  // Weak: a request is forgotten with its last reference; the network cannot add to it.
  const readers = new WeakSet<Request>();

  async function enabled(): Promise<boolean> {
    if (ctx.config.clientAuth === 'required') return true;
    const now = ctx.clock.now();
    if (on !== undefined && now < on.until) return on.value;
    const any = await ctx.datastore.db.selectFrom('client_tokens').select('id').limit(1).executeTakeFirst();
    on = { value: any !== undefined, until: now + ttl };
    return on.value;
  }

  async function verify(secret: string): Promise<TokenRecord | undefined> {
    const now = ctx.clock.now();
    const hit = verdicts.get(secret);
    if (hit !== undefined && now < hit.until) return hit.record;
    const record = await verifyClientToken(ctx.datastore.db, secret);
    if (verdicts.size >= MAX_CACHED) verdicts.clear();
    verdicts.set(secret, { record, until: now + ttl });
    return record;
  }

  const middleware: MiddlewareHandler = async (c, next) => {
    const access = requiredAccess(c.req.method, c.req.path);
    if (readers.has(c.req.raw)) {
      if (access !== 'client-write') return next();
      return refuse(
        c,
        new HttpError(
          'forbidden',
          `${c.req.method} ${c.req.path} changes state; the read-only dashboard cannot`,
        ),
      );
    }
    if (access === 'none' || !(await enabled())) return next();
    const header = c.req.header('authorization');
    const secret = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (secret === undefined)
      return refuse(
        c,
        new HttpError(
          'unauthorized',
          'this client API needs a token: send `Authorization: Bearer <token>` (create one with `gbc client-token new` on the coordinator host)',
        ),
      );
    const record = await verify(secret);
    if (record === undefined)
      return refuse(c, new HttpError('unauthorized', 'the client token is unknown or revoked'));
    if (access === 'client-write' && record.scope !== 'read-write') {
      return refuse(
        c,
        new HttpError(
          'forbidden',
          `${c.req.method} ${c.req.path} changes state and needs a read-write token; token "${record.name}" is read-only`,
        ),
      );
    }
    return next();
  };

  return {
    middleware,
    enabled,
    invalidate() {
      on = undefined;
      verdicts.clear();
    },
    admitAsReader(request) {
      readers.add(request);
      return request;
    },
  };
}

function refuse(c: Parameters<MiddlewareHandler>[0], error: HttpError): Response {
  const headers: Record<string, string> =
    error.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="gbc-client"' } : {};
  return c.json(error.toBody(), error.status as 401, headers);
}
