// The cache's Guix-flavour narinfos signed with a configured Guix key file:
// the Signature verifies with its public key and the signed fields, through
// app.request() with a real SQLite datastore.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import {
  formatGuixSecretKey,
  generateGuixSecretKey,
  parseNarInfo,
  verifyGuixNarInfo,
  type GuixSecretKey,
} from '@gbc/store';
import { makeNar } from '../test-support/bytes.js';
import { finishBuild } from '../hooks/testing/finish-build.js';
import {
  addDerivation,
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from '../hooks/testing/test-coordinator.js';
import { storeOutput } from '../hooks/testing/store-output.js';
import { createCacheApp } from './cache-app.js';
import { resolveCacheOptions } from './cache-options.js';

let dir: string;
let tc: TestCoordinator;
let app: Hono;
let key: GuixSecretKey;
let outPath: string;

beforeAll(async () => {
  dir = await makeTestDir('gbc-cache-guix-sig-');
  tc = await openTestCoordinator(dir);
  const drv = await addDerivation(tc.ctx, 'hello');
  outPath = drv.outputs[0]!.path;
  await storeOutput(tc.ctx, {
    storePath: outPath,
    nar: makeNar(dir, 2048),
    compressions: ['gzip', 'none'],
    references: [outPath],
    deriver: drv.path,
  });
  await finishBuild(tc.ctx, drv.path, { result: 'success', log: 'ok\n' });
  key = generateGuixSecretKey();
  const keyFile = join(dir, 'signing-key.sec');
  await writeFile(keyFile, formatGuixSecretKey(key));
  app = createCacheApp(
    tc.ctx,
    await resolveCacheOptions({
      flavour: 'guix',
      guixSigningKeyFile: keyFile,
      guixSigningHost: 'cache.test',
    }),
  );
});

afterAll(async () => {
  await tc.close();
  await removeTestDir(dir);
});

const narinfoUrl = () => `/${outPath.slice('/gnu/store/'.length, '/gnu/store/'.length + 32)}.narinfo`;

describe('Guix-flavour narinfo signatures', () => {
  it('signs the Guix narinfo with the configured key file, over its signed fields', async () => {
    const res = await app.request(narinfoUrl());
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/\nSignature: 1;cache\.test;[A-Za-z0-9+/=]+\n/);
    const info = parseNarInfo(text, { storeDir: '/gnu/store' });
    expect(verifyGuixNarInfo(info, [key.publicKey])).toMatchObject({ valid: true, host: 'cache.test' });
    expect(verifyGuixNarInfo(info, [generateGuixSecretKey().publicKey])).toMatchObject({
      valid: false,
      reason: 'untrusted-key',
    });
    expect(verifyGuixNarInfo({ ...info, narSize: info.narSize + 1 }, [key.publicKey])).toMatchObject({
      valid: false,
      reason: 'hash-mismatch',
    });
  });

  it('answers the same bytes each time (deterministic signatures) and leaves the Nix flavour without Sig lines', async () => {
    const a = await (await app.request(narinfoUrl())).text();
    expect(await (await app.request(narinfoUrl())).text()).toBe(a);
    const nix = parseNarInfo(await (await app.request(`${narinfoUrl()}?flavour=nix`)).text(), {
      storeDir: '/gnu/store',
    });
    expect(nix.sigs).toEqual([]);
  });

  it('refuses to start with a key file that is not a Guix secret key', async () => {
    const bad = join(dir, 'bad.sec');
    await writeFile(bad, '(public-key (ecc (curve Ed25519) (q #00#)))');
    await expect(resolveCacheOptions({ guixSigningKeyFile: bad })).rejects.toMatchObject({
      code: 'guix-key-bad',
    });
  });
});
