// Hooks and metrics wired into a real createCoordinator: a build submitted
// through the client API reaches a configured hook function, and the agent
// port answers /metrics (with its own request durations) beside the cache.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCoordinator, type Coordinator } from '../coordinator/create-coordinator.js';
import { silentLogger } from '../logger.js';
import { waitFor } from '../test-support/bytes.js';
import type { HookEvent } from './hook-types.js';
import { addDerivation, makeTestDir, removeTestDir } from './testing/test-coordinator.js';

let dir: string;
let coordinator: Coordinator;
const seen: HookEvent[] = [];

beforeAll(async () => {
  dir = await makeTestDir('gbc-attach-');
  coordinator = await createCoordinator({
    databaseUri: `sqlite://${dir}/gbc.db`,
    dataDir: `${dir}/data`,
    logger: silentLogger,
    hooks: { 'build-submitted': [(e) => void seen.push(e)] },
    hookRunner: { pollIntervalMs: 50 },
    storeDir: '/gnu/store',
  });
  await coordinator.start();
});

afterAll(async () => {
  await coordinator.stop();
  await removeTestDir(dir);
});

describe('hooks and metrics in a coordinator', () => {
  it('runs the configured hook for a build submitted through the client API', async () => {
    const drv = await addDerivation(coordinator.context, 'attached');
    const res = await coordinator.clientApp.request('/builds', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ derivation: drv.path }),
    });
    expect(res.status).toBeLessThan(300);
    const { uuid } = (await res.json()) as { uuid: string };
    await waitFor(() => seen.length === 1, 'the build-submitted hook');
    expect(seen[0]).toMatchObject({ type: 'build-submitted', build: uuid, derivation: drv.path, attempt: 1 });
  });

  it('serves /metrics and the cache on the agent port', async () => {
    expect((await coordinator.agentApp.request('/nix-cache-info')).status).toBe(200);
    const text = await (await coordinator.agentApp.request('/metrics')).text();
    expect(text).toMatch(/^gbc_builds\{state="queued"\} 1$/m);
    expect(text).toMatch(
      /^gbc_http_request_duration_seconds_count\{method="GET",route="\/nix-cache-info",status="200"\} 1$/m,
    );
    expect(text).toMatch(/^gbc_hook_runs\{event_type="build-submitted",outcome="ok"\} 1$/m);
  });
});
