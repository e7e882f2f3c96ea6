// The web dashboard, served by the coordinator on its client address under
// /ui (and `GET /` redirects there). Pages are rendered on the server with
// Hono's JSX (which escapes every value) from what the client API answers;
// one small script of our own makes them live. The same pages can also be
// served read-only on an address of their own (`dashboardUrl`): no login, no
// buttons, every API call made as a reader. See README.md in this folder.
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { ClientAuth } from '../client-auth/client-auth.js';
import type { CoordinatorContext } from '../context.js';
import { HttpError } from '../http/http-error.js';
import { toHttpError } from '../http/on-error.js';
import { mountActionRoutes } from './action-routes.js';
import { ApiCallError, createApiCaller, type ClientApiFetch } from './api-caller.js';
import { mountAssets } from './assets.js';
import { createFinishRate } from './finish-rate.js';
import { mountLiveRoutes } from './live-routes.js';
import { ErrorPage } from './login-page.js';
import { mountLoginRoutes } from './login-routes.js';
import { mountPageRoutes } from './page-routes.js';
import type { Session, SessionStore } from './sessions.js';
import { createSessionStore, randomId } from './sessions.js';
import { sessionMiddleware } from './web-auth.js';
import { WEB_BASE, type WebEnv } from './web-env.js';

/** Largest form body the dashboard reads (login, cancel, priority), bytes. */
const FORM_BYTES = 16 * 1024;

/**
 * Mounts the dashboard on the client app `app`, before its bearer-token
 * middleware (the dashboard authenticates with its session cookie, then calls
 * the API through `app` itself with the session's token).
 */
export function mountWebDashboard(
  app: Hono<{ Variables: object }>,
  ctx: CoordinatorContext,
  auth: Pick<ClientAuth, 'enabled'>,
): void {
  const clientApi: ClientApiFetch = (request) => app.fetch(request);
  mountAtBase(app, createWebApp(ctx, auth, clientApi));
}

/**
 * The dashboard alone, read-only, for an address of its own: anyone who
 * reaches it sees what a read-only token sees (pages, live logs and events)
 * and can change nothing. `clientApi` is the client app's `fetch`; `auth`
 * admits this dashboard's in-process calls as a reader.
 */
export function createReadOnlyDashboard(
  ctx: CoordinatorContext,
  auth: Pick<ClientAuth, 'enabled' | 'admitAsReader'>,
  clientApi: ClientApiFetch,
): Hono {
  const app = new Hono<{ Variables: object }>();
  const asReader: ClientApiFetch = (request) => clientApi(auth.admitAsReader(request));
  mountAtBase(app, createWebApp(ctx, auth, asReader, 'read-only'));
  app.all('*', (c) => c.text(`no dashboard page ${c.req.path}`, 404));
  return app as unknown as Hono;
}

/** Mounts `web` at /ui; / and /ui/ lead to the overview. */
function mountAtBase(app: Hono<{ Variables: object }>, web: Hono<WebEnv>): void {
  for (const path of ['/', `${WEB_BASE}/`]) app.get(path, (c) => c.redirect(WEB_BASE, 302));
  app.route(WEB_BASE, web);
}

/**
 * How the dashboard is served: `sessions` on the client address (a login
 * with a client token; buttons for read-write tokens), `read-only` on an
 * address of its own (see {@link createReadOnlyDashboard}).
 */
export type WebMode = 'sessions' | 'read-only';

/** The dashboard as a Hono app of its own (paths relative to /ui). */
export function createWebApp(
  ctx: CoordinatorContext,
  auth: Pick<ClientAuth, 'enabled'>,
  clientApi: ClientApiFetch,
  mode: WebMode = 'sessions',
): Hono<WebEnv> {
  const web = new Hono<WebEnv>();
  const sessions = createSessionStore();
  const finishRate = createFinishRate({ db: ctx.datastore.db, events: ctx.events, clock: ctx.clock });
  web.onError((error, c) => errorPage(c, error, sessions, ctx));
  web.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
      referrerPolicy: 'same-origin',
    }),
  );
  web.use('*', bodyLimit({ maxSize: FORM_BYTES }));
  mountAssets(web);
  if (mode === 'read-only') {
    web.use('*', readOnlyMiddleware(clientApi));
  } else {
    mountLoginRoutes(web, { sessions, auth, clock: ctx.clock, db: ctx.datastore.db });
    web.use('*', sessionMiddleware({ sessions, auth, clock: ctx.clock, clientApi }));
  }
  mountPageRoutes(web, ctx, finishRate);
  if (mode === 'sessions') mountActionRoutes(web, sessions);
  mountLiveRoutes(web);
  web.all('*', (c) => {
    throw new ApiCallError(404, 'not-found', `no dashboard page ${new URL(c.req.url).pathname}`);
  });
  return web;
}

/**
 * The read-only dashboard's one session, the same for every browser and never
 * stored in a cookie: it reads through `clientApi` (which admits it as a
 * reader) and is refused anything but GET and HEAD.
 */
function readOnlyMiddleware(clientApi: ClientApiFetch): MiddlewareHandler<WebEnv> {
  const session: Session = {
    id: 'read-only',
    secret: null,
    tokenName: null,
    scope: 'read',
    csrf: randomId(),
    lastUsed: 0,
  };
  const api = createApiCaller(clientApi, null);
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
      throw new HttpError('method-not-allowed', 'this dashboard is read-only');
    c.set('session', session);
    c.set('api', api);
    await next();
  };
}

/** An error as an HTML page; a token the API no longer accepts ends the session. */
function errorPage(
  c: Context<WebEnv>,
  error: unknown,
  sessions: SessionStore,
  ctx: CoordinatorContext,
): Response | Promise<Response> {
  const { status, message } =
    error instanceof ApiCallError
      ? error
      : (({ status, message }) => ({ status, message }))(toHttpError(error));
  const session = c.get('session') as WebEnv['Variables']['session'] | undefined;
  if (status === 401 && session?.secret != null) {
    sessions.destroyBySecret(session.secret);
    if (c.req.method === 'GET') return c.redirect(`${WEB_BASE}/login`, 303);
  }
  if (status >= 500) ctx.logger.error('dashboard request failed', { path: c.req.path, error: String(error) });
  const page = ErrorPage({ status, message: status >= 500 ? 'internal error' : message, session });
  return c.html(page, status as 400);
}
