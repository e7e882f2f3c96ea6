// listen(): the apps on real ports, and the binary cache on a port of its own when asked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { createCoordinator } from './create-coordinator.js';
import { listen } from './listen.js';

const dir = mkdtempSync(join(tmpdir(), 'gbc-listen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('listen', () => {
  it('serves the cache on its own port only when a cache URL is given', async () => {
    const c = await createCoordinator({
      databaseUri: `sqlite://${join(dir, 'a.db')}`,
      dataDir: join(dir, 'a'),
      logger: silentLogger,
      cwd: dir,
      storeDir: '/nix/store',
    });
    await c.start();
    const loopback = { agentUrl: 'http://127.0.0.1:0', clientUrl: 'http://127.0.0.1:0' };
    try {
      const plain = await listen(c, loopback);
      expect(plain.cacheUrl).toBeUndefined();
      await plain.close();

      const served = await listen(c, { ...loopback, cacheUrl: 'http://127.0.0.1:0' });
      try {
        expect(served.cachePort).not.toBe(served.agentPort);
        const info = await fetch(`${served.cacheUrl}/nix-cache-info`);
        expect(info.status).toBe(200);
        expect(await info.text()).toContain('StoreDir: /nix/store');
        // The cache port serves the cache and nothing of the agent API.
        expect((await fetch(`${served.cacheUrl}/agent/session`, { method: 'POST', body: '{}' })).status).toBe(
          404,
        );
        expect((await fetch(`${served.agentUrl}/nix-cache-info`)).status).toBe(200);
      } finally {
        await served.close();
      }
    } finally {
      await c.stop();
    }
  });
});
