// retry-on-failure and submit-missing-inputs through the runner, with real
// builds in a real datastore: resubmission up to the limit and only for the
// chosen kinds; builds for missing inputs' derivations, never twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEvents, getEvent, listBuilds, type DerivationRecord } from '@gbc/datastore';
import { waitFor } from '../../test-support/bytes.js';
import { createHookRunner, type HookRunner } from '../hook-runner.js';
import { resolveHooks } from '../resolve-hooks.js';
import { resolveCacheOptions } from '../../cache/cache-options.js';
import { finishBuild } from '../testing/finish-build.js';
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

beforeAll(async () => {
  dir = await makeTestDir('gbc-submit-hooks-');
  tc = await openTestCoordinator(dir);
  const hooks = await resolveHooks(
    {
      'build-failure': [{ builtin: 'retry-on-failure', maxRetries: 1 }],
      'build-missing-inputs': [{ builtin: 'submit-missing-inputs' }],
    },
    { cache: await resolveCacheOptions(), cwd: dir },
  );
  runner = createHookRunner(tc.ctx, { hooks, pollIntervalMs: 20 });
  runner.start();
});

afterAll(async () => {
  await runner.stop();
  await tc.close();
  await removeTestDir(dir);
});

async function emit(eventType: string, payload: Record<string, unknown>): Promise<void> {
  const [id] = await enqueueEvents(tc.ctx.datastore.db, [{ eventType, payload }], tc.ctx.clock.now());
  await waitFor(
    async () => (await getEvent(tc.ctx.datastore.db, id!))?.doneAt !== null,
    `${eventType} to be processed`,
  );
}

async function buildsOf(drv: DerivationRecord) {
  return (await listBuilds(tc.ctx.datastore.db, { derivationPath: drv.path })).builds;
}

describe('retry-on-failure', () => {
  it('resubmits a build failure once (maxRetries 1), then gives up', async () => {
    const drv = await addDerivation(tc.ctx, 'flaky');
    const first = await finishBuild(tc.ctx, drv.path, { result: 'build-failure' });
    await emit('build-failure', { build: first.buildId, derivation: drv.path });
    const after = await buildsOf(drv);
    expect(after.map((b) => b.state).sort()).toEqual(['failed', 'queued']);
    await emit('build-failure', { build: first.buildId, derivation: drv.path });
    expect(await buildsOf(drv)).toHaveLength(2);
    const retry = after.find((b) => b.state === 'queued')!;
    await finishBuild(tc.ctx, drv.path, { result: 'build-failure', buildId: retry.id });
    await emit('build-failure', { build: retry.id, derivation: drv.path });
    expect((await buildsOf(drv)).map((b) => b.state)).toEqual(['failed', 'failed']);
  });

  it('leaves failures of other kinds alone', async () => {
    const drv = await addDerivation(tc.ctx, 'canceled-one');
    const first = await finishBuild(tc.ctx, drv.path, { result: 'canceled' });
    await emit('build-failure', { build: first.buildId, derivation: drv.path });
    expect(await buildsOf(drv)).toHaveLength(1);
  });
});

describe('submit-missing-inputs', () => {
  it('submits a build of the derivation producing a missing input, once', async () => {
    const dep = await addDerivation(tc.ctx, 'missing-dep');
    const main = await addDerivation(tc.ctx, 'needs-dep', [dep]);
    const r = await finishBuild(tc.ctx, main.path, {
      result: 'setup-failure',
      missingInputs: [dep.outputs[0]!.path],
    });
    expect(await buildsOf(dep)).toHaveLength(0);
    await emit('build-missing-inputs', { build: r.buildId, derivation: main.path });
    const deps = await buildsOf(dep);
    expect(deps.map((b) => b.state)).toEqual(['queued']);
    await emit('build-missing-inputs', {
      build: r.buildId,
      derivation: main.path,
      missingInputs: [dep.outputs[0]!.path],
    });
    expect(await buildsOf(dep)).toHaveLength(1);
  });
});
