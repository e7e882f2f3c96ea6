// The dashboard as an attacker sees it, client auth on, through app.request()
// on a real coordinator (SQLite file and PostgreSQL): no page without a
// login, no token in a URL, hostile names and tags escaped, forged and
// cross-site POSTs refused, a read-only token shown no buttons and refused
// when it posts anyway, a revoked token's session ended, oversized forms and
// open redirects refused. Every refused POST leaves the build as it was.
import { getBuild } from '@gbc/datastore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPlace, fakeDrv, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { createClientToken, listClientTokens, revokeClientToken } from '../client-auth/client-tokens.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { startControlled } from '../limits/test-support.js';
import { createTestBrowser, type TestBrowser } from './web-test-support.js';

const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const HOSTILE_TAG = '<script>alert("tag")</script>';

describe.each(['sqlite', 'postgres'] as const)('dashboard attacks on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let build: string;
  let rw: string;
  let ro: string;
  const stateOf = async (uuid: string) => (await getBuild(c.context.datastore.db, uuid))!.state;
  const loggedIn = async (token: string): Promise<TestBrowser> => {
    const browser = createTestBrowser(c);
    const res = await browser.login(token);
    expect(res.status).toBe(303);
    return browser;
  };

  beforeAll(async () => {
    place = createTestPlace(dialect);
    // A verdict cache of 0 ms: a revoked token stops at once (the default caches for seconds).
    ({ c } = await startControlled(place, { clientTokenCacheMs: 0 }));
    const drv = fakeDrv(HOSTILE_NAME);
    [build] = (await submit(
      c,
      [drv],
      [{ derivationPath: drv.path, tags: [{ key: 'note', value: HOSTILE_TAG }] }],
    )) as [string];
    rw = (await createClientToken(c.context.datastore.db, { name: 'operator', scope: 'read-write' })).secret;
    ro = (await createClientToken(c.context.datastore.db, { name: 'viewer', scope: 'read' })).secret;
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  it('sends a browser without a session to the login form, and its streams get nothing', async () => {
    const browser = createTestBrowser(c);
    const page = await browser.get(`/ui/build/${build}?x=1`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(
      `/ui/login?next=${encodeURIComponent(`/ui/build/${build}?x=1`)}`,
    );
    expect(browser.cookie).toBeUndefined();
    for (const path of ['/ui/events', `/ui/build/${build}/log`, '/ui/builds'])
      expect((await browser.get(path)).status).toBe(303);
    const post = await browser.post(`/ui/build/${build}/cancel`, { _csrf: 'x' });
    expect(post.status).toBe(401);
    expect(await stateOf(build)).toBe('queued');
  });

  it('logs in by POST into an HttpOnly SameSite=Strict cookie; the token is in no URL', async () => {
    const browser = createTestBrowser(c);
    expect((await browser.login('not-a-token')).status).toBe(401);
    expect(browser.cookie).toBeUndefined();
    const res = await browser.login(ro, `/ui/build/${build}`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/ui/build/${build}`);
    const cookie = res.headers.getSetCookie().find((l) => l.startsWith('gbc_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\/ui/);
    expect(cookie).not.toContain(ro);
    expect(res.headers.get('location')).not.toContain(ro);
    const html = await (await browser.get(`/ui/build/${build}`)).text();
    expect(html).not.toContain(ro);
  });

  it('goes nowhere but the dashboard after a login (no open redirect)', async () => {
    for (const next of [
      '//evil.example/',
      'https://evil.example/',
      '/\\evil.example',
      '/uix',
      'javascript:alert(1)',
    ]) {
      const res = await createTestBrowser(c).login(ro, next);
      expect(res.headers.get('location')).toBe('/ui');
    }
  });

  it('escapes a hostile derivation name and tag on every page that shows them', async () => {
    const browser = await loggedIn(ro);
    for (const path of [
      `/ui/build/${build}`,
      '/ui/builds',
      `/ui/builds?tag=${encodeURIComponent(`note=${HOSTILE_TAG}`)}`,
    ]) {
      const html = await (await browser.get(path)).text();
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(html).not.toContain(HOSTILE_NAME);
      expect(html).not.toContain('<script>alert');
    }
    const tagged = await (await browser.get(`/ui/build/${build}`)).text();
    expect(tagged).toContain('&lt;script&gt;alert(&quot;tag&quot;)&lt;/script&gt;');
  });

  it('shows a read-only token no buttons, and the API refuses its POST anyway', async () => {
    const browser = await loggedIn(ro);
    const html = await (await browser.get(`/ui/build/${build}`)).text();
    expect(html).not.toContain('Cancel build');
    expect(html).not.toContain('Change priority');
    const csrf = browser.csrfOf(html); // the logout form's
    const cancel = await browser.post(`/ui/build/${build}/cancel`, { _csrf: csrf });
    expect(cancel.status).toBe(403);
    expect(await cancel.text()).toContain('read-write');
    const priority = await browser.post(`/ui/build/${build}/priority`, { _csrf: csrf, priority: '99' });
    expect(priority.status).toBe(403);
    expect(await stateOf(build)).toBe('queued');
    expect((await getBuild(c.context.datastore.db, build))!.priority).toBe(0);
  });

  it('refuses forged and cross-site POSTs of a read-write session', async () => {
    const browser = await loggedIn(rw);
    const csrf = browser.csrfOf(await (await browser.get(`/ui/build/${build}`)).text());
    const path = `/ui/build/${build}/cancel`;
    const refusals = [
      await browser.post(path, {}),
      await browser.post(path, { _csrf: '' }),
      await browser.post(path, { _csrf: `${csrf.slice(0, -2)}xx` }),
      await createTestBrowser(c).post(path, { _csrf: csrf }),
      await browser.post(path, { _csrf: csrf }, { Origin: 'http://evil.example' }),
      await browser.post(path, { _csrf: csrf }, { Origin: 'null' }),
      await browser.post(path, { _csrf: csrf }, { 'Sec-Fetch-Site': 'cross-site' }),
      await browser.post(path, { _csrf: csrf }, { 'Sec-Fetch-Site': 'same-site' }),
    ];
    expect(refusals.map((r) => r.status)).toEqual([403, 403, 403, 401, 403, 403, 403, 403]);
    expect(await stateOf(build)).toBe('queued');
    // Another session's token does not open this one's forms.
    const other = await loggedIn(rw);
    const otherCsrf = other.csrfOf(await (await other.get(`/ui/build/${build}`)).text());
    expect((await browser.post(path, { _csrf: otherCsrf })).status).toBe(403);
    expect(await stateOf(build)).toBe('queued');
  });

  it('lets a read-write session change the priority and cancel from its own forms', async () => {
    const browser = await loggedIn(rw);
    const csrf = browser.csrfOf(await (await browser.get(`/ui/build/${build}`)).text());
    const bad = await browser.post(`/ui/build/${build}/priority`, { _csrf: csrf, priority: '1e3' });
    expect(bad.status).toBe(400);
    const priority = await browser.post(`/ui/build/${build}/priority`, { _csrf: csrf, priority: '7' });
    expect(priority.status).toBe(303);
    expect((await getBuild(c.context.datastore.db, build))!.priority).toBe(7);
    const cancel = await browser.post(`/ui/build/${build}/cancel`, { _csrf: csrf });
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get('location')).toBe(`/ui/build/${build}`);
    expect(await stateOf(build)).toBe('canceled');
    const html = await (await browser.get(`/ui/build/${build}`)).text();
    expect(html).toContain('state-canceled');
    expect(html).not.toContain('Cancel build');
  });

  it('refuses an oversized form before reading it', async () => {
    const browser = createTestBrowser(c);
    const res = await browser.post('/ui/login', { token: 'x'.repeat(64 * 1024) });
    expect(res.status).toBe(413);
  });

  it('ends the session of a revoked token, and logs out for good', async () => {
    const db = c.context.datastore.db;
    const doomed = await createClientToken(db, { name: 'doomed', scope: 'read' });
    const browser = await loggedIn(doomed.secret);
    expect((await browser.get('/ui/agents')).status).toBe(200);
    await revokeClientToken(db, doomed.token.id);
    const after = await browser.get('/ui/agents');
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/ui/login');
    expect((await browser.get('/ui/agents')).status).toBe(303);

    const leaving = await loggedIn(ro);
    const cookie = leaving.cookie!;
    const csrf = leaving.csrfOf(await (await leaving.get('/ui/agents')).text());
    expect((await leaving.post('/ui/logout', { _csrf: csrf })).status).toBe(303);
    const replayed = await c.clientApp.request('http://localhost/ui/agents', {
      headers: { Cookie: `gbc_session=${cookie}` },
    });
    expect(replayed.status).toBe(303);
    expect((await listClientTokens(db)).map((t) => t.name)).toContain('viewer');
  });
});
