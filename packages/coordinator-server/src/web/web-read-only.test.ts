// The read-only dashboard on an address of its own (`dashboardUrl`), over real
// HTTP from a listening coordinator (SQLite file and PostgreSQL) with client
// auth on: every page without a login and without a button, its live streams
// open, and nothing that changes state: no POST of any kind, no client API
// route reachable through it, and the client address still refuses a
// request without a token.
import { getBuild } from '@gbc/datastore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPlace, fakeDrv, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { createClientToken } from '../client-auth/client-tokens.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { listen, type Listening } from '../coordinator/listen.js';
import { startControlled } from '../limits/test-support.js';

const LOOPBACK = 'http://127.0.0.1:0';

describe.each(['sqlite', 'postgres'] as const)('read-only dashboard on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let served: Listening;
  let build: string;
  const get = (path: string, init: RequestInit = {}) =>
    fetch(`${served.dashboardUrl}${path}`, { redirect: 'manual', ...init });

  beforeAll(async () => {
    place = createTestPlace(dialect);
    ({ c } = await startControlled(place));
    const drv = fakeDrv('read-only-view');
    [build] = (await submit(
      c,
      [drv],
      [{ derivationPath: drv.path, tags: [{ key: 'jobset', value: 'ro' }] }],
    )) as [string];
    // A token exists: client auth is on, and the client address wants it.
    await createClientToken(c.context.datastore.db, { name: 'operator', scope: 'read-write' });
    served = await listen(c, { agentUrl: LOOPBACK, clientUrl: LOOPBACK, dashboardUrl: LOOPBACK });
  });
  afterAll(async () => {
    await served.close();
    await c.stop();
    place.remove();
  });

  it('listens on an address of its own, beside the client address', () => {
    expect(served.dashboardUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(served.dashboardPort).not.toBe(served.clientPort);
  });

  it('serves every page without a login, saying it is read-only', async () => {
    const root = await get('/');
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui');
    for (const path of [
      '/ui',
      '/ui/builds?state=queued',
      `/ui/build/${build}`,
      '/ui/agents',
      '/ui/allocation-plan',
      '/ui/hooks',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('set-cookie'), path).toBeNull();
      const html = await res.text();
      expect(html, path).toContain('read-only view');
      expect(html, path).not.toContain('_csrf');
    }
    const list = await (await get('/ui/builds?tag=jobset%3Dro')).text();
    expect(list).toContain(build);
    const page = await (await get(`/ui/build/${build}`)).text();
    expect(page).toContain('read-only-view');
    expect(page).not.toContain('Cancel build');
    expect(page).not.toContain('Change priority');
  });

  it('streams events to its script', async () => {
    const abort = new AbortController();
    const res = await get('/ui/events', { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    abort.abort();
    await res.body?.cancel().catch(() => undefined);
  });

  it('refuses every POST, changes nothing, and has no login', async () => {
    const form = { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } };
    for (const path of [
      `/ui/build/${build}/cancel`,
      `/ui/build/${build}/priority`,
      '/ui/login',
      '/ui/logout',
    ]) {
      const res = await get(path, { ...form, body: 'priority=99&_csrf=x&token=y' });
      expect(res.status, path).toBe(405);
    }
    expect((await get('/ui/login')).status).toBe(404);
    const after = (await getBuild(c.context.datastore.db, build))!;
    expect(after.state).toBe('queued');
    expect(after.priority).toBe(0);
  });

  it('exposes no client API route, and the client address still wants a token', async () => {
    for (const [method, path] of [
      ['GET', '/builds'],
      ['GET', `/build/${build}`],
      ['GET', '/client-tokens'],
      ['POST', `/build/${build}/cancel`],
    ] as const) {
      expect((await get(path, { method })).status, `${method} ${path}`).toBe(404);
    }
    const direct = await fetch(`${served.clientUrl}/build/${build}`);
    expect(direct.status).toBe(401);
    expect((await fetch(`${served.clientUrl}/ui`, { redirect: 'manual' })).status).toBe(303);
  });
});
