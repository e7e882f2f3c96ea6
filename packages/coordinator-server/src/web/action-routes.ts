// The dashboard's buttons: cancel a build, change its priority, log out.
// Each is a POST from the session's own form (CSRF token and Origin checked,
// web-auth.ts) that calls the client API with the session's token, so a
// read-only token is refused by the API itself (403), as with `gbc`.
import type { Hono } from 'hono';
import { HttpError } from '../http/http-error.js';
import type { SessionStore } from './sessions.js';
import { checkCsrf, clearSessionCookie } from './web-auth.js';
import { WEB_BASE, type WebEnv } from './web-env.js';

/** Mounts `POST /build/{uuid}/cancel`, `POST /build/{uuid}/priority` and `POST /logout`. */
export function mountActionRoutes(web: Hono<WebEnv>, sessions: SessionStore): void {
  web.post('/build/:uuid/cancel', async (c) => {
    checkCsrf(c, await c.req.parseBody());
    const uuid = c.req.param('uuid');
    await c.get('api').post(`/build/${encodeURIComponent(uuid)}/cancel`, {});
    return c.redirect(`${WEB_BASE}/build/${encodeURIComponent(uuid)}`, 303);
  });

  web.post('/build/:uuid/priority', async (c) => {
    const form = await c.req.parseBody();
    checkCsrf(c, form);
    const sent = typeof form.priority === 'string' ? form.priority.trim() : '';
    const priority = /^-?[0-9]{1,15}$/.test(sent) ? Number(sent) : NaN;
    if (!Number.isSafeInteger(priority))
      throw new HttpError('bad-request', `the priority must be a whole number, got "${sent.slice(0, 40)}"`);
    const uuid = c.req.param('uuid');
    await c.get('api').post(`/build/${encodeURIComponent(uuid)}/update-priority`, { priority });
    return c.redirect(`${WEB_BASE}/build/${encodeURIComponent(uuid)}`, 303);
  });

  web.post('/logout', async (c) => {
    checkCsrf(c, await c.req.parseBody());
    sessions.destroy(c.get('session').id);
    clearSessionCookie(c);
    return c.redirect(`${WEB_BASE}/login`, 303);
  });
}
