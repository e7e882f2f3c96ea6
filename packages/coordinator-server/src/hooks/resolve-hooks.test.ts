// Hook configuration: functions given directly, functions exported by a
// JavaScript module (named or default export, relative to the coordinator's
// cwd), and refusals of what cannot be run, at start.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCacheOptions, type ResolvedCacheOptions } from '../cache/cache-options.js';
import type { HookEvent, HookFunction } from './hook-types.js';
import { resolveHooks } from './resolve-hooks.js';
import {
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from './testing/test-coordinator.js';

let dir: string;
let tc: TestCoordinator;
let cache: ResolvedCacheOptions;
const event: HookEvent = {
  id: 9,
  type: 'build-success',
  build: 'b',
  derivation: '/gnu/store/x.drv',
  payload: { build: 'b' },
  createdAt: 0,
  attempt: 1,
};

beforeAll(async () => {
  dir = await makeTestDir('gbc-resolve-hooks-');
  tc = await openTestCoordinator(dir);
  cache = await resolveCacheOptions();
  writeFileSync(
    join(dir, 'my-hooks.mjs'),
    `import { writeFileSync } from 'node:fs';\n` +
      `export function onSuccess(event, { coordinator }) { writeFileSync(${JSON.stringify(join(dir, 'named.json'))}, JSON.stringify({ id: event.id, store: typeof coordinator.datastore.db })); }\n` +
      `export default async (event) => { writeFileSync(${JSON.stringify(join(dir, 'default.json'))}, JSON.stringify(event.type)); };\n` +
      `export const notAFunction = 3;\n`,
  );
});

afterAll(async () => {
  await tc.close();
  await removeTestDir(dir);
});

async function runAll(fns: readonly HookFunction[] | undefined): Promise<void> {
  for (const fn of fns ?? []) await fn(event, { coordinator: tc.ctx, signal: new AbortController().signal });
}

describe('resolveHooks', () => {
  it('loads named and default exports of a module relative to cwd, and keeps plain functions', async () => {
    const calls: number[] = [];
    const hooks = await resolveHooks(
      {
        'build-success': [
          { module: './my-hooks.mjs', export: 'onSuccess' },
          { module: join(dir, 'my-hooks.mjs') },
          (e) => void calls.push(e.id),
        ],
      },
      { cache, cwd: dir },
    );
    expect(hooks.get('build-success')).toHaveLength(3);
    await runAll(hooks.get('build-success'));
    expect(JSON.parse(readFileSync(join(dir, 'named.json'), 'utf8'))).toEqual({ id: 9, store: 'object' });
    expect(JSON.parse(readFileSync(join(dir, 'default.json'), 'utf8'))).toBe('build-success');
    expect(calls).toEqual([9]);
  });

  it('refuses an export that is not a function, and incomplete built-ins', async () => {
    await expect(
      resolveHooks(
        { 'build-success': { module: './my-hooks.mjs', export: 'notAFunction' } },
        { cache, cwd: dir },
      ),
    ).rejects.toMatchObject({ code: 'bad-hook-config' });
    await expect(
      resolveHooks({ 'build-success': { builtin: 'publish', directory: '' } }, { cache, cwd: dir }),
    ).rejects.toMatchObject({ code: 'bad-hook-config' });
    await expect(
      resolveHooks(
        { 'build-started': { builtin: 'guix-data-service', url: 'http://x' } as never },
        { cache, cwd: dir },
      ),
    ).rejects.toMatchObject({ code: 'bad-hook-config' });
    await expect(
      resolveHooks({ 'build-failure': { builtin: 'retry-on-failure', maxRetries: -1 } }, { cache, cwd: dir }),
    ).rejects.toMatchObject({ code: 'bad-hook-config' });
  });

  it('leaves out event types configured with an empty list', async () => {
    expect((await resolveHooks({ 'build-success': [] }, { cache, cwd: dir })).size).toBe(0);
  });
});
