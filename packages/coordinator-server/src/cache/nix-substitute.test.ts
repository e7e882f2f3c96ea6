// A real Nix client substitutes from the cache: nix-daemon builds an output,
// the coordinator keeps it as an agent upload would, the path is deleted from
// the local store, and `nix-store -r` brings it back from our HTTP cache with
// signatures required; a wrong trusted key is refused.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from '../hooks/testing/test-coordinator.js';
import { buildWithNix, storeOutput, type NixBuilt } from '../hooks/testing/store-output.js';
import { createCacheApp } from './cache-app.js';
import { resolveCacheOptions } from './cache-options.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
let dir: string;
let tc: TestCoordinator;
let server: ServerType;
let url: string;
let built: NixBuilt;
let publicKey: string;
let otherPublicKey: string;

/** Runs nix-store without blocking the event loop (the cache answers from this same process). */
function nix(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('nix-store', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

beforeAll(async () => {
  dir = await makeTestDir('gbc-cache-nix-');
  tc = await openTestCoordinator(dir);
  for (const name of ['ours', 'other'])
    execFileSync(
      'nix-store',
      ['--generate-binary-cache-key', `gbc-test-${name}`, join(dir, `${name}.sec`), join(dir, `${name}.pub`)],
      { env },
    );
  publicKey = readFileSync(join(dir, 'ours.pub'), 'utf8').trim();
  otherPublicKey = readFileSync(join(dir, 'other.pub'), 'utf8').trim();
  built = buildWithNix(dir, 'substitute');
  await storeOutput(tc.ctx, {
    storePath: built.outPath,
    nar: built.nar,
    compressions: ['gzip'],
    references: built.references,
    deriver: built.drvPath,
  });
  const app = createCacheApp(
    tc.ctx,
    await resolveCacheOptions({
      storeDir: '/nix/store',
      signingKeyFile: join(dir, 'ours.sec'),
      priority: 30,
    }),
  );
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await tc.close();
  await removeTestDir(dir);
});

function realiseFromCache(trustedKey: string) {
  return nix([
    '-r',
    built.outPath,
    '--option',
    'substituters',
    url,
    '--option',
    'trusted-public-keys',
    trustedKey,
    '--option',
    'require-sigs',
    'true',
  ]);
}

describe('the binary cache with a real Nix client', () => {
  it('serves nix-cache-info with the configured store directory and priority', async () => {
    const text = await (await fetch(`${url}/nix-cache-info`)).text();
    expect(text).toBe('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 30\n');
  });

  it('refuses a narinfo signed by a key the client does not trust', async () => {
    expect((await nix(['--delete', built.outPath])).status).toBe(0);
    const r = await realiseFromCache(otherPublicKey);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not signed by any of the keys/);
    expect(spawnSync('nix-store', ['-q', '--hash', built.outPath], { env }).status).not.toBe(0);
  });

  it('substitutes the deleted output with signatures required, byte-identical', async () => {
    const r = await realiseFromCache(publicKey);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const restored = execFileSync('nix-store', ['--dump', built.outPath], { env });
    expect(Buffer.compare(restored, built.nar)).toBe(0);
  });
});
