// `GET /login` (the form) and `POST /login` (a client token in, a session
// cookie out). The token is checked against the datastore the way the client
// API checks it; the form's `next` may only lead back into the dashboard.
import type { Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { verifyClientToken } from '@gbc/datastore';
import type { Db } from '@gbc/datastore';
import type { ClientAuth } from '../client-auth/client-auth.js';
import type { Clock } from '../clock.js';
import { LoginPage } from './login-page.js';
import type { SessionStore } from './sessions.js';
import { checkSameOrigin, SESSION_COOKIE, setSessionCookie } from './web-auth.js';
import { WEB_BASE, type WebEnv } from './web-env.js';

/** Longest token accepted by the form (real ones are far shorter). */
const MAX_TOKEN_CHARS = 512;

/** A dashboard path to go to after logging in: `next` when it stays in the dashboard, else the overview. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2048) return WEB_BASE;
  // Only our own paths: no scheme, no host, no `//` (protocol-relative), no backslash tricks.
  if (!/^\/ui(\/|\?|$)/.test(next) || next.includes('\\') || next.startsWith('//')) return WEB_BASE;
  return next;
}

/** Mounts the login routes (before the session middleware: they need no session). */
export function mountLoginRoutes(
  web: Hono<WebEnv>,
  deps: {
    readonly sessions: SessionStore;
    readonly auth: Pick<ClientAuth, 'enabled'>;
    readonly clock: Clock;
    readonly db: Db;
  },
): void {
  web.get('/login', async (c) => {
    if (!(await deps.auth.enabled())) return c.redirect(WEB_BASE, 303);
    return c.html(LoginPage({ next: safeNext(c.req.query('next')) }));
  });

  web.post('/login', async (c) => {
    checkSameOrigin(c);
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    if (!(await deps.auth.enabled())) return c.redirect(next, 303);
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const record =
      token === '' || token.length > MAX_TOKEN_CHARS ? undefined : await verifyClientToken(deps.db, token);
    if (record === undefined)
      return c.html(LoginPage({ next, error: 'That client token is unknown or revoked.' }), 401);
    const old = getCookie(c, SESSION_COOKIE);
    if (old !== undefined) deps.sessions.destroy(old);
    const session = deps.sessions.create(
      { secret: token, tokenName: record.name, scope: record.scope === 'read-write' ? 'read-write' : 'read' },
      deps.clock.now(),
    );
    setSessionCookie(c, session);
    return c.redirect(next, 303);
  });
}
