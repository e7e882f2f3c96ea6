// Client API authentication through app.request() on a real datastore (SQLite
// file and PostgreSQL): open without tokens, the bootstrap rule, 401 without
// or with a wrong or revoked token, 403 for a read-only token on write routes,
// nothing changed by a refused request, the verdict cache, `required` mode,
// and the read-only dashboard's in-process requests (read, never write).
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild } from '@gbc/datastore';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import type { ManualClock } from '../clock.js';
import { createTestPlace, fakeDrv, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { clientCall, startControlled } from '../limits/test-support.js';
import { createClientAuth } from './client-auth.js';
import { createClientToken, listClientTokens } from './client-tokens.js';

const code = async (res: Response): Promise<string> =>
  ((await res.json()) as { error: { code: string } }).error.code;

describe.each(['sqlite', 'postgres'] as const)('client auth on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let clock: ManualClock;
  let build: string;
  let rw: string;
  let ro: string;
  const buildCount = async (): Promise<number> =>
    Number(
      (
        await c.context.datastore.db
          .selectFrom('builds')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    place = createTestPlace(dialect);
    ({ c, clock } = await startControlled(place, { clientTokenCacheMs: 5000 }));
    const drv = fakeDrv('auth-one');
    [build] = (await submit(c, [drv], [{ derivationPath: drv.path }])) as [string];
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  it('is open without tokens, but refuses to create the first token over HTTP', async () => {
    expect((await clientCall(c, 'GET', `/build/${build}`)).status).toBe(200);
    const res = await clientCall(c, 'POST', '/client-tokens', undefined, { name: 'x', scope: 'read-write' });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'gbc client-token new',
    );
    expect(await listClientTokens(c.context.datastore.db)).toEqual([]);
  });

  it('turns on once a token exists, after the cache time', async () => {
    const db = c.context.datastore.db;
    rw = (await createClientToken(db, { name: 'submitter', scope: 'read-write' }, clock.now())).secret;
    ro = (await createClientToken(db, { name: 'dashboard', scope: 'read' }, clock.now())).secret;
    // The "auth is off" verdict of the previous request is still cached.
    expect((await clientCall(c, 'GET', `/build/${build}`)).status).toBe(200);
    clock.advance(5001);
    const res = await clientCall(c, 'GET', `/build/${build}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await code(res)).toBe('unauthorized');
  });

  it('refuses missing, wrong and malformed tokens with 401 and read-only tokens on write routes with 403, changing nothing', async () => {
    const before = await buildCount();
    const attempts: [string | undefined, number][] = [
      [undefined, 401],
      ['gbc_not-a-token', 401],
      [ro, 403],
    ];
    for (const [token, status] of attempts) {
      const cancel = await clientCall(c, 'POST', `/build/${build}/cancel`, token, {});
      expect(cancel.status, String(token)).toBe(status);
      expect(await code(cancel)).toBe(status === 401 ? 'unauthorized' : 'forbidden');
      expect(
        (await clientCall(c, 'POST', `/build/${build}/update-priority`, token, { priority: 9 })).status,
      ).toBe(status);
      expect(
        (
          await clientCall(c, 'POST', '/builds', token, {
            derivation: '/gnu/store/00000000000000000000000000000000-x.drv',
          })
        ).status,
      ).toBe(status);
      expect(
        (await clientCall(c, 'POST', '/client-tokens', token, { name: 'sneaky', scope: 'read-write' }))
          .status,
      ).toBe(status);
    }
    const malformed = await c.clientApp.request(`/build/${build}`, {
      headers: { Authorization: `Basic ${Buffer.from(`x:${rw}`).toString('base64')}` },
    });
    expect(malformed.status).toBe(401);
    const after = await getBuild(c.context.datastore.db, build);
    expect(after?.state).toBe('queued');
    expect(after?.priority).toBe(0);
    expect(await buildCount()).toBe(before);
    expect((await listClientTokens(c.context.datastore.db)).map((t) => t.name)).toEqual([
      'submitter',
      'dashboard',
    ]);
  });

  it('lets a read-only token read and a read-write token write; unknown paths need a token; openapi needs none', async () => {
    expect((await clientCall(c, 'GET', `/build/${build}`, ro)).status).toBe(200);
    expect((await clientCall(c, 'GET', '/builds', ro)).status).toBe(200);
    expect((await clientCall(c, 'GET', '/no/such/route')).status).toBe(401);
    expect((await clientCall(c, 'GET', '/no/such/route', ro)).status).toBe(404);
    expect((await clientCall(c, 'GET', '/openapi.json')).status).toBe(200);
    expect((await clientCall(c, 'POST', `/build/${build}/update-priority`, rw, { priority: 4 })).status).toBe(
      200,
    );
    expect((await getBuild(c.context.datastore.db, build))?.priority).toBe(4);
  });

  it('creates, lists and revokes tokens over HTTP with a read-write token; a revoked token is refused at once', async () => {
    const made = await clientCall(c, 'POST', '/client-tokens', rw, { name: 'ci', scope: 'read-write' });
    expect(made.status).toBe(201);
    const created = (await made.json()) as { token: { id: string; name: string }; secret: string };
    expect((await clientCall(c, 'GET', '/builds', created.secret)).status).toBe(200);
    const listed = (await (await clientCall(c, 'GET', '/client-tokens', rw)).json()) as {
      tokens: { id: string; name: string; scope: string }[];
    };
    expect(listed.tokens.map((t) => [t.name, t.scope])).toEqual([
      ['submitter', 'read-write'],
      ['dashboard', 'read'],
      ['ci', 'read-write'],
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect((await clientCall(c, 'DELETE', `/client-token/${created.token.id}`, rw)).status).toBe(204);
    expect((await clientCall(c, 'GET', '/builds', created.secret)).status).toBe(401);
    expect((await clientCall(c, 'DELETE', `/client-token/${created.token.id}`, rw)).status).toBe(404);
    expect(
      (await clientCall(c, 'DELETE', '/client-token/4b0c9e54-3b44-4d1c-8d59-3a1c2f0e7a11', rw)).status,
    ).toBe(404);
  });

  it('stays closed when every token is revoked', async () => {
    // The read-write token revokes the others, then itself.
    const tokens = (await listClientTokens(c.context.datastore.db)).sort(
      (a, b) => Number(a.name === 'submitter') - Number(b.name === 'submitter'),
    );
    for (const t of tokens)
      expect((await clientCall(c, 'DELETE', `/client-token/${t.id}`, rw)).status, t.name).toBe(204);
    expect(await listClientTokens(c.context.datastore.db)).toEqual([]);
    clock.advance(10_000);
    expect((await clientCall(c, 'GET', '/builds')).status).toBe(401);
    expect((await clientCall(c, 'GET', '/builds', rw)).status).toBe(401);
  });
});

describe('client auth required by configuration', () => {
  it('refuses requests before any token exists', async () => {
    const place = createTestPlace('sqlite');
    const { c } = await startControlled(place, { clientAuth: 'required' });
    try {
      expect((await clientCall(c, 'GET', '/builds')).status).toBe(401);
      const { secret } = await createClientToken(c.context.datastore.db, { name: 'first', scope: 'read' });
      expect((await clientCall(c, 'GET', '/builds', secret)).status).toBe(200);
    } finally {
      await c.stop();
      place.remove();
    }
  });
});

describe("the read-only dashboard's in-process requests", () => {
  it('read without a token, never write (even while auth is off), and admit only the very request marked', async () => {
    const place = createTestPlace('sqlite');
    const { c } = await startControlled(place);
    try {
      const auth = createClientAuth(c.context);
      const app = new Hono();
      app.use('*', auth.middleware);
      app.get('/builds', (ctx) => ctx.text('read'));
      app.post('/build/:uuid/cancel', (ctx) => ctx.text('written'));
      const cancel = () => new Request('http://x/build/b/cancel', { method: 'POST' });
      // Auth off: an ordinary request may write; the dashboard's may not.
      expect((await app.fetch(cancel())).status).toBe(200);
      const refused = await app.fetch(auth.admitAsReader(cancel()));
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('read-only dashboard');
      // Auth on: the dashboard's read needs no token; a request like it, not marked, does.
      await createClientToken(c.context.datastore.db, { name: 'on', scope: 'read-write' });
      auth.invalidate();
      const read = new Request('http://x/builds');
      expect((await app.fetch(new Request(read))).status).toBe(401);
      expect(await (await app.fetch(auth.admitAsReader(read))).text()).toBe('read');
      expect((await app.fetch(auth.admitAsReader(cancel()))).status).toBe(403);
    } finally {
      await c.stop();
      place.remove();
    }
  });
});
