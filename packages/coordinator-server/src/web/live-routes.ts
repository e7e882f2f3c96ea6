// The streams the dashboard's script reads, with the session cookie instead
// of a bearer header (an EventSource cannot send one): `GET /events` and
// `GET /build/{uuid}/log` are the client API's own routes, passed through
// with the session's token; the browser going away aborts them.
import type { Context, Hono } from 'hono';
import type { WebEnv } from './web-env.js';

/** Mounts `GET /events` and `GET /build/{uuid}/log`. */
export function mountLiveRoutes(web: Hono<WebEnv>): void {
  web.get('/events', (c) => pass(c, '/events', ['type', 'build', 'agent']));
  web.get('/build/:uuid/log', (c) =>
    pass(c, `/build/${encodeURIComponent(c.req.param('uuid'))}/log`, ['attempt', 'follow']),
  );
}

async function pass(c: Context<WebEnv>, path: string, params: readonly string[]): Promise<Response> {
  const url = new URL(c.req.url);
  const query = new URLSearchParams();
  for (const name of params) for (const v of url.searchParams.getAll(name)) query.append(name, v);
  const lastEventId = c.req.header('last-event-id');
  const res = await c
    .get('api')
    .stream(path, query, c.req.raw.signal, lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId });
  const headers = new Headers();
  for (const name of ['content-type', 'cache-control', 'x-accel-buffering', 'x-gbc-log-live']) {
    const v = res.headers.get(name);
    if (v !== null) headers.set(name, v);
  }
  return new Response(res.body, { status: res.status, headers });
}
