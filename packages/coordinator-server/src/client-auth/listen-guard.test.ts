// The listen rule with a real coordinator on SQLite and real sockets: an
// unauthenticated client API is refused beyond loopback unless allowed, and
// allowed once a token exists; plus loopback recognition and the access table.
import { describe, expect, it } from 'vitest';
import { CoordinatorClient, routesForPort } from '@gbc/protocol';
import { createTestPlace } from '../agent-api/test-support.js';
import { listen } from '../coordinator/listen.js';
import { startControlled } from '../limits/test-support.js';
import { createClientToken } from './client-tokens.js';
import { isLoopbackHost } from './listen-guard.js';
import { requiredAccess } from './route-access.js';

describe('listen and client auth', () => {
  it('refuses 0.0.0.0 without tokens, serves it when allowed or once a token exists, and loopback always', async () => {
    const place = createTestPlace('sqlite');
    const { c } = await startControlled(place, { clientTokenCacheMs: 0 });
    const { c: allowed } = await startControlled(
      { ...place, databaseUri: `sqlite://${place.dir}/allowed.db` },
      { allowUnauthenticatedClients: true },
    );
    try {
      const exposed = { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://0.0.0.0:0' };
      await expect(listen(c, exposed)).rejects.toMatchObject({
        name: 'ClientAuthError',
        code: 'unauthenticated-exposure',
      });
      await expect(listen(c, { ...exposed, clientUrl: 'http://[::]:0' })).rejects.toThrow(
        /allowUnauthenticatedClients/,
      );
      const local = await listen(c, { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' });
      expect((await fetch(`${local.clientUrl}/builds`)).status).toBe(200);
      await local.close();
      const open = await listen(allowed, exposed);
      expect((await fetch(`http://127.0.0.1:${open.clientPort}/builds`)).status).toBe(200);
      await open.close();
      const { secret } = await createClientToken(c.context.datastore.db, { name: 'ops', scope: 'read' });
      const guarded = await listen(c, exposed);
      try {
        const baseUrl = `http://127.0.0.1:${guarded.clientPort}`;
        expect((await fetch(`${baseUrl}/builds`)).status).toBe(401);
        expect((await new CoordinatorClient({ baseUrl, token: secret }).listBuilds({})).builds).toEqual([]);
        await expect(
          new CoordinatorClient({ baseUrl, token: secret }).cancelBuildsByTags([{ key: 'a', value: 'b' }]),
        ).rejects.toMatchObject({ status: 403, code: 'forbidden' });
      } finally {
        await guarded.close();
      }
    } finally {
      await c.stop();
      await allowed.stop();
      place.remove();
    }
  });

  it('knows loopback hosts', () => {
    for (const h of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      '[::1]',
      '::1',
      'ci.localhost',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '[::]', '10.0.0.1', '128.0.0.1', 'example.org', '::2'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it("takes every client route's access from the protocol table, and needs read access for unknown paths", () => {
    for (const r of routesForPort('client')) {
      const path = r.path.replace(/\{[A-Za-z]+\}/g, 'x-1');
      expect(requiredAccess(r.method, path), r.id).toBe(r.auth);
    }
    expect(requiredAccess('HEAD', '/builds')).toBe('client-read');
    expect(requiredAccess('POST', '/builds')).toBe('client-write');
    expect(requiredAccess('GET', '/nope')).toBe('client-read');
    expect(requiredAccess('DELETE', '/builds')).toBe('client-read');
  });
});
