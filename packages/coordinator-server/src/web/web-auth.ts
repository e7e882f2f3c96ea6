// The dashboard's authentication: a session cookie (sessions.ts) instead of a
// bearer header, because a browser cannot add headers to links and forms and
// a token must never sit in a URL. Pages need a session; while client auth is
// off every browser gets an anonymous read-write one (the API is open then
// anyway). State-changing requests must come from the session's own forms:
// the form's CSRF token must match the session's, and a browser's Origin (or
// Sec-Fetch-Site) must name this very host.
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { ClientAuth } from '../client-auth/client-auth.js';
import type { Clock } from '../clock.js';
import { HttpError } from '../http/http-error.js';
import { createApiCaller, type ClientApiFetch } from './api-caller.js';
import { sameSecret, type Session, type SessionStore } from './sessions.js';
import { WEB_BASE, type WebEnv } from './web-env.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'gbc_session';

/** Sets the session cookie: HttpOnly, SameSite=Strict, only under the dashboard's path, Secure over https. */
export function setSessionCookie(c: Context, session: Session): void {
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: WEB_BASE,
    secure: new URL(c.req.url).protocol === 'https:',
  });
}

/** Removes the session cookie from the browser. */
export function clearSessionCookie(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: WEB_BASE });
}

/** What the session middleware needs. */
export interface WebAuthDeps {
  readonly sessions: SessionStore;
  readonly auth: Pick<ClientAuth, 'enabled'>;
  readonly clock: Clock;
  readonly clientApi: ClientApiFetch;
}

/**
 * Puts the request's session and API caller on the context. Without a
 * session: an anonymous one while auth is off; else GETs go to the login
 * form (coming back here after it), anything else gets 401.
 */
export function sessionMiddleware(deps: WebAuthDeps): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const now = deps.clock.now();
    const authOn = await deps.auth.enabled();
    let session = deps.sessions.get(getCookie(c, SESSION_COOKIE), now);
    // An anonymous session from before the first token was created opens nothing once auth is on.
    if (session !== undefined && authOn && session.secret === null) {
      deps.sessions.destroy(session.id);
      session = undefined;
    }
    if (session === undefined) {
      if (authOn) {
        if (c.req.method !== 'GET' && c.req.method !== 'HEAD')
          throw new HttpError('unauthorized', 'log in to the dashboard first');
        const url = new URL(c.req.url);
        return c.redirect(`${WEB_BASE}/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      session = deps.sessions.create({ secret: null, tokenName: null, scope: 'read-write' }, now);
      setSessionCookie(c, session);
    }
    c.set('session', session);
    c.set('api', createApiCaller(deps.clientApi, session.secret));
    await next();
  };
}

/**
 * Refuses a state-changing request that did not come from this dashboard's
 * own page: another site's Origin, a cross-site fetch, or a CSRF token that
 * is missing or not the session's.
 */
export function checkSameOrigin(c: Context): void {
  const origin = c.req.header('origin');
  const host = new URL(c.req.url).host;
  if (origin !== undefined && origin !== '' && safeHost(origin) !== host)
    throw new HttpError('forbidden', `refused a request from another site (Origin ${origin.slice(0, 200)})`);
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new HttpError('forbidden', `refused a ${site} request: use the dashboard's own buttons`);
}

/** {@link checkSameOrigin}, then the form's `_csrf` field against the session's. */
export function checkCsrf(c: Context<WebEnv>, form: Record<string, unknown>): void {
  checkSameOrigin(c);
  const sent = form._csrf;
  if (typeof sent !== 'string' || !sameSecret(sent, c.get('session').csrf))
    throw new HttpError(
      'forbidden',
      'the form is stale or forged (its CSRF token does not match): reload the page',
    );
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
