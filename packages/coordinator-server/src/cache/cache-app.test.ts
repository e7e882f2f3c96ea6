// The cache app through app.request() with a real SQLite datastore and data
// directory: narinfo flavours and signing, NAR bytes and HEAD, logs, and bad
// or unknown requests answered 400/404.
import { execFileSync } from 'node:child_process';
import { claimBuildsById, createAgent, createBuilds, finishAttempt, startAttempt } from '@gbc/datastore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import type { Hono } from 'hono';
import { generateSecretKey, parseNarInfo, publicKeyOf, isNarInfoTrusted, type SecretKey } from '@gbc/store';
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
import { logKey } from '../storage/index.js';
import { createCacheApp } from './cache-app.js';
import { resolveCacheOptions } from './cache-options.js';

let dir: string;
let tc: TestCoordinator;
let signed: Hono;
let unsigned: Hono;
let key: SecretKey;
let nar: Buffer;
let outPath: string;
let drvPath: string;
let refPath: string;

beforeAll(async () => {
  dir = await makeTestDir('gbc-cache-app-');
  tc = await openTestCoordinator(dir);
  const dep = await addDerivation(tc.ctx, 'dep');
  const drv = await addDerivation(tc.ctx, 'hello', [dep]);
  outPath = drv.outputs[0]!.path;
  drvPath = drv.path;
  refPath = dep.outputs[0]!.path;
  nar = makeNar(dir, 4096);
  await storeOutput(tc.ctx, {
    storePath: outPath,
    nar,
    compressions: ['gzip', 'none'],
    references: [refPath, outPath],
    deriver: drvPath,
  });
  await finishBuild(tc.ctx, drvPath, { result: 'build-failure', log: 'first try failed\n' });
  await finishBuild(tc.ctx, drvPath, { result: 'success', log: 'building hello\ndone\n' });
  key = generateSecretKey('gbc-test-1');
  signed = createCacheApp(tc.ctx, await resolveCacheOptions({ signingKey: key, flavour: 'nix' }));
  unsigned = createCacheApp(
    tc.ctx,
    await resolveCacheOptions({ flavour: 'guix', compressionPreference: ['none', 'gzip'] }),
  );
});

afterAll(async () => {
  await tc.close();
  await removeTestDir(dir);
});

const hashOf = (p: string) => p.slice('/gnu/store/'.length, '/gnu/store/'.length + 32);

describe('narinfo', () => {
  it('answers a signed Nix narinfo that verifies with the public key', async () => {
    const res = await signed.request(`/${hashOf(outPath)}.narinfo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/x-nix-narinfo');
    const info = parseNarInfo(await res.text(), { storeDir: '/gnu/store' });
    expect(info.storePath).toBe(outPath);
    expect(info.files).toHaveLength(1);
    expect(info.files[0]!.compression).toBe('gzip');
    expect(info.files[0]!.url).toBe(`nar/gzip/${outPath.slice(11)}`);
    expect(info.narSize).toBe(nar.length);
    expect(info.references).toEqual([refPath.slice(11), outPath.slice(11)].sort());
    expect(info.deriver).toBe(drvPath.slice(11));
    expect(isNarInfoTrusted(info, [publicKeyOf(key)])).toBe(true);
    expect(isNarInfoTrusted(info, [publicKeyOf(generateSecretKey('gbc-test-1'))])).toBe(false);
  });

  it('writes the Guix flavour when configured, and either flavour when asked with ?flavour=', async () => {
    const guix = await (await unsigned.request(`/${hashOf(outPath)}.narinfo`)).text();
    const info = parseNarInfo(guix, { storeDir: '/gnu/store' });
    expect(info.flavour).not.toBe('nix');
    expect(info.files.map((f) => f.compression)).toEqual(['none', 'gzip']);
    const nix = parseNarInfo(
      await (await unsigned.request(`/${hashOf(outPath)}.narinfo?flavour=nix`)).text(),
      { storeDir: '/gnu/store' },
    );
    expect(nix.flavour).toBe('nix');
    expect(nix.sigs).toEqual([]);
    expect((await signed.request(`/${hashOf(outPath)}.narinfo?flavour=zip`)).status).toBe(400);
  });

  it("serves by default the layout of its store directory's clients: Guix for /gnu/store, Nix otherwise", async () => {
    expect((await resolveCacheOptions({})).flavour).toBe('guix');
    expect((await resolveCacheOptions({ storeDir: '/gnu/store/' })).flavour).toBe('guix');
    expect((await resolveCacheOptions({ storeDir: '/nix/store' })).flavour).toBe('nix');
    expect((await resolveCacheOptions({ storeDir: '/gnu/store', flavour: 'nix' })).flavour).toBe('nix');
    // No query parameter: a Guix client gets the Guix layout.
    const byDefault = createCacheApp(tc.ctx, await resolveCacheOptions({ storeDir: '/gnu/store' }));
    expect(
      parseNarInfo(await (await byDefault.request(`/${hashOf(outPath)}.narinfo`)).text(), {
        storeDir: '/gnu/store',
      }).flavour,
    ).toBe('guix');
  });

  it('404s an unknown hash and a malformed one', async () => {
    expect((await signed.request(`/${'0'.repeat(32)}.narinfo`)).status).toBe(404);
    const bad = await signed.request('/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.narinfo');
    expect(bad.status).toBe(404);
    expect(await bad.json()).toMatchObject({ error: { code: 'not-found' } });
  });
});

describe('NARs and logs', () => {
  it('streams the stored file with its Content-Length, and HEAD gives the length alone', async () => {
    const res = await signed.request(`/nar/gzip/${outPath.slice(11)}`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    expect(Buffer.compare(gunzipSync(body), nar)).toBe(0);
    const head = await signed.request(`/nar/gzip/${outPath.slice(11)}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));
    const plain = Buffer.from(await (await signed.request(`/nar/${outPath.slice(11)}`)).arrayBuffer());
    expect(Buffer.compare(plain, nar)).toBe(0);
    expect(execFileSync('nix-store', ['--restore', `${dir}/restored`], { input: plain }).length).toBe(0);
  });

  it('refuses bad NAR names (400) and answers 404 for unknown ones or absent compressions', async () => {
    expect((await signed.request('/nar/gzip/not-a-store-path')).status).toBe(400);
    expect((await signed.request(`/nar/gzip/${'1'.repeat(32)}-nothing`)).status).toBe(404);
    expect((await signed.request(`/nar/zstd/${outPath.slice(11)}`)).status).toBe(404);
    expect((await signed.request(`/nar/bzip9/${outPath.slice(11)}`)).status).toBe(400);
    expect((await signed.request(`/nar/gzip/${hashOf(outPath)}-other-name`)).status).toBe(404);
  });

  it('serves the log of the successful attempt, and 404 for a derivation without one', async () => {
    const res = await signed.request(`/log/${drvPath.slice(11)}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('building hello\ndone\n');
    expect((await signed.request(`/log/${'2'.repeat(32)}-x.drv`)).status).toBe(404);
    expect((await signed.request('/log/not-a-drv')).status).toBe(400);
  });

  it('serves the live log of a running build of a derivation without a finished one, then its sealed log', async () => {
    const db = tc.ctx.datastore.db;
    const drv = await addDerivation(tc.ctx, 'running');
    const now = tc.ctx.clock.now();
    const [build] = await createBuilds(db, [{ derivationPath: drv.path }], now);
    const agent = await createAgent(db, { name: 'cache-log-agent', systems: ['x86_64-linux'] }, now);
    const [claim] = await claimBuildsById(db, [build!.id], { agentId: agent.id, leaseMs: 60_000, now });
    await startAttempt(db, claim!.attemptId, agent.id, 60_000, now);
    const key = logKey(build!.id, claim!.attemptId);
    await tc.ctx.storage.logs.append(key, Buffer.from('still building\n'));
    const live = await signed.request(`/log/${drv.path.slice(11)}`);
    expect(live.status).toBe(200);
    expect(await live.text()).toBe('still building\n');
    const sealed = await tc.ctx.storage.logs.seal(key);
    await finishAttempt(
      db,
      claim!.attemptId,
      agent.id,
      { result: 'build-failure', logLocation: sealed.key },
      now,
    );
    expect(sealed.key).not.toBe(key);
    const res = await signed.request(`/log/${drv.path.slice(11)}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('still building\n');
  });
});
