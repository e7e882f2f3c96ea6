// One store directory per coordinator: the configuration's `storeDir` names
// the client API's basename routes and the binary cache's StoreDir; per-app
// legacy settings must agree with it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createClientApp, resolveConfig } from '../index.js';
import { silentLogger } from '../logger.js';
import { createCoordinator } from './create-coordinator.js';

const dir = mkdtempSync(join(tmpdir(), 'gbc-store-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('storeDir', () => {
  it('defaults to /gnu/store and loses trailing slashes; a relative one is refused', () => {
    expect(resolveConfig({ databaseUri: 'sqlite::memory:' }).storeDir).toBe('/gnu/store');
    expect(resolveConfig({ databaseUri: 'sqlite::memory:', storeDir: '/nix/store//' }).storeDir).toBe(
      '/nix/store',
    );
    expect(() => resolveConfig({ databaseUri: 'sqlite::memory:', storeDir: 'nix/store' })).toThrow(
      RangeError,
    );
  });

  it('is the cache StoreDir and the directory of PUT /derivation/{name}', async () => {
    const c = await createCoordinator({
      databaseUri: `sqlite://${join(dir, 'a.db')}`,
      dataDir: join(dir, 'a'),
      logger: silentLogger,
      cwd: dir,
      storeDir: '/nix/store/',
    });
    await c.start();
    try {
      expect(await (await c.cacheApp.request('/nix-cache-info')).text()).toContain('StoreDir: /nix/store\n');
      const app = createClientApp(c.context);
      const res = await app.request('/derivation/00000000000000000000000000000000-bad.drv', {
        method: 'PUT',
        body: 'Derive(',
      });
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toContain('/nix/store/00000000000000000000000000000000-bad.drv');
    } finally {
      await c.stop();
    }
  });

  it('refuses per-app store directories that disagree with it', async () => {
    await expect(
      createCoordinator({
        databaseUri: 'sqlite::memory:',
        logger: silentLogger,
        cwd: dir,
        storeDir: '/gnu/store',
        cache: { storeDir: '/nix/store' },
      }),
    ).rejects.toThrow(/conflicting store directories/);
  });
});
