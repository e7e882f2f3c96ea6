// The publish and command hooks run by the hook runner from their JSON
// configuration: the published directory holds a signed narinfo and a NAR
// that nix-store --restore accepts; a command receives the event on standard
// input, and a failing command's stderr becomes the event's last error.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEvents, getEvent } from '@gbc/datastore';
import {
  generateSecretKey,
  isNarInfoTrusted,
  parseNarInfo,
  publicKeyOf,
  parseNixCacheInfo,
} from '@gbc/store';
import { resolveCacheOptions } from '../../cache/cache-options.js';
import { makeNar, waitFor } from '../../test-support/bytes.js';
import { listHookFailures } from '../hook-failures.js';
import { createHookRunner, type HookRunner } from '../hook-runner.js';
import { resolveHooks } from '../resolve-hooks.js';
import { finishBuild } from '../testing/finish-build.js';
import { storeOutput } from '../testing/store-output.js';
import {
  addDerivation,
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from '../testing/test-coordinator.js';

let dir: string;
let tc: TestCoordinator;
let runner: HookRunner;
const key = generateSecretKey('gbc-publish-1');

beforeAll(async () => {
  dir = await makeTestDir('gbc-publish-');
  tc = await openTestCoordinator(dir);
  const hooks = await resolveHooks(
    {
      'build-success': [
        { builtin: 'publish', directory: 'published' },
        { command: ['/bin/sh', '-c', 'cat >> "$RECORD"'], env: { RECORD: join(dir, 'record.jsonl') } },
      ],
      'build-failure': { command: ['/bin/sh', '-c', 'echo "no luck today" >&2; exit 3'] },
    },
    { cache: await resolveCacheOptions({ signingKey: key, flavour: 'nix' }), cwd: dir },
  );
  runner = createHookRunner(tc.ctx, { hooks, pollIntervalMs: 20, backoff: { baseMs: 3_600_000 } });
  runner.start();
});

afterAll(async () => {
  await runner.stop();
  await tc.close();
  await removeTestDir(dir);
});

describe('publish and command hooks', () => {
  it('publishes a valid narinfo and a restorable NAR, and the command records the event', async () => {
    const drv = await addDerivation(tc.ctx, 'published');
    const out = drv.outputs[0]!.path;
    const nar = makeNar(dir, 2048);
    const { buildId } = await finishBuild(tc.ctx, drv.path, { result: 'success' });
    await storeOutput(tc.ctx, { storePath: out, nar, compressions: ['gzip'], deriver: drv.path });
    const [id] = await enqueueEvents(
      tc.ctx.datastore.db,
      [{ eventType: 'build-success', payload: { build: buildId, derivation: drv.path } }],
      tc.ctx.clock.now(),
    );
    runner.wake();
    await waitFor(
      async () => (await getEvent(tc.ctx.datastore.db, id!))?.doneAt !== null,
      'the build-success hooks to run',
    );

    const published = join(dir, 'published');
    const hash = out.slice(11, 43);
    const info = parseNarInfo(readFileSync(join(published, `${hash}.narinfo`), 'utf8'), {
      storeDir: '/gnu/store',
    });
    expect(info.storePath).toBe(out);
    expect(isNarInfoTrusted(info, [publicKeyOf(key)])).toBe(true);
    expect(parseNixCacheInfo(readFileSync(join(published, 'nix-cache-info'))).storeDir).toBe('/gnu/store');
    const file = readFileSync(join(published, info.files[0]!.url));
    expect(file.length).toBe(info.files[0]!.fileSize);
    execFileSync('nix-store', ['--restore', join(dir, 'restored')], { input: gunzipSync(file) });
    expect(Buffer.compare(execFileSync('nix-store', ['--dump', join(dir, 'restored')]), nar)).toBe(0);
    expect(readdirSync(published).filter((n) => n.startsWith('.tmp-'))).toEqual([]);

    const recorded = readFileSync(join(dir, 'record.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recorded).toEqual([
      expect.objectContaining({
        id,
        type: 'build-success',
        build: buildId,
        derivation: drv.path,
        attempt: 1,
      }),
    ]);
  });

  it('records a failing command with its exit status and stderr, to be retried', async () => {
    const [id] = await enqueueEvents(
      tc.ctx.datastore.db,
      [{ eventType: 'build-failure', payload: { build: '00000000-0000-4000-8000-000000000001' } }],
      tc.ctx.clock.now(),
    );
    runner.wake();
    await waitFor(
      async () => (await getEvent(tc.ctx.datastore.db, id!))?.lastError !== null,
      'the command to fail',
    );
    const failure = (await listHookFailures(tc.ctx.datastore.db)).find((f) => f.id === id);
    expect(failure?.lastError).toBe('command-failed: /bin/sh exited with 3: no luck today');
    expect(failure?.attempts).toBe(1);
  });

  it('refuses a configuration it does not understand, at start', async () => {
    const cache = await resolveCacheOptions();
    await expect(
      resolveHooks({ 'build-success': [{ builtin: 'nope' } as never] }, { cache, cwd: dir }),
    ).rejects.toMatchObject({ code: 'bad-hook-config' });
    await expect(
      resolveHooks({ 'build-success': { command: [] } }, { cache, cwd: dir }),
    ).rejects.toMatchObject({ code: 'bad-hook-config' });
  });
});
