// Scrapes /metrics after real activity in a real SQLite datastore: builds by
// state, queue per system, attempts by result, agents and their load, hook
// queue depth, failures and runs, allocations, uploads and request durations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import {
  createAgent,
  createBuilds,
  enqueueEvents,
  getEvent,
  recordAgentStatus,
  recordOutputMetadata,
} from '@gbc/datastore';
import { waitFor } from '../test-support/bytes.js';
import { createHookRunner, type HookRunner } from '../hooks/hook-runner.js';
import { finishBuild } from '../hooks/testing/finish-build.js';
import {
  addDerivation,
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from '../hooks/testing/test-coordinator.js';
import { createCoordinatorMetrics, type CoordinatorMetrics } from './coordinator-metrics.js';
import { createMetricsApp } from './metrics-app.js';
import { requestMetrics } from './request-metrics.js';

let dir: string;
let tc: TestCoordinator;
let runner: HookRunner;
let metrics: CoordinatorMetrics;
let text: string;
let agentId: string;

/** The value of one sample, by name and exact labels (`{}` for none). */
function sample(name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = (m[2] ?? '')
      .split(/,(?=[a-z_]+=")/)
      .filter((s) => s !== '')
      .sort()
      .join(',');
    if (have === want) return Number(m[3]);
  }
  return undefined;
}

beforeAll(async () => {
  dir = await makeTestDir('gbc-metrics-');
  tc = await openTestCoordinator(dir);
  const { ctx } = tc;
  const db = ctx.datastore.db;
  const ok = await addDerivation(ctx, 'ok');
  const bad = await addDerivation(ctx, 'bad');
  const waiting = await addDerivation(ctx, 'waiting');
  await finishBuild(ctx, ok.path, { result: 'success' });
  await finishBuild(ctx, bad.path, { result: 'build-failure' });
  await recordOutputMetadata(db, [
    {
      storePath: ok.outputs[0]!.path,
      narHash: 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s',
      narSize: 10,
      references: [],
      files: [
        { compression: 'zstd', fileSize: 700, fileHash: null, location: null },
        { compression: 'gzip', fileSize: 800, fileHash: null, location: null },
      ],
    },
  ]);
  await createBuilds(
    db,
    [{ derivationPath: waiting.path }, { derivationPath: waiting.path }],
    ctx.clock.now(),
  );
  agentId = (await createAgent(db, { name: 'builder-1', systems: ['x86_64-linux'] })).id;
  await recordAgentStatus(db, agentId, { load1: 1.5, builds: [] }, ctx.clock.now());
  await createAgent(db, { name: 'retired', active: false });
  const [failing] = await enqueueEvents(db, [{ eventType: 'build-failure', payload: {} }], ctx.clock.now());
  await enqueueEvents(
    db,
    [
      { eventType: 'build-success', payload: {} },
      { eventType: 'build-success', payload: {} },
    ],
    ctx.clock.now(),
  );
  runner = createHookRunner(ctx, {
    hooks: new Map([['build-failure', [() => Promise.reject(new Error('down'))]]]),
    pollIntervalMs: 20,
    backoff: { baseMs: 3_600_000 },
    completeUnhooked: false,
  });
  runner.start();
  await waitFor(async () => (await getEvent(db, failing!))?.lastError !== null, 'the hook failure');

  metrics = createCoordinatorMetrics(ctx, { hooks: runner });
  metrics.observeUpload({ kind: 'nar', bytes: 1000, seconds: 0.2, outcome: 'ok' });
  const app = new Hono();
  app.use(requestMetrics(metrics));
  app.get('/build/:uuid/thing', (c) => c.text('x'));
  app.route('/', createMetricsApp(metrics, ctx.logger));
  expect((await app.request('/build/123/thing')).status).toBe(200);
  expect((await app.request('/nowhere')).status).toBe(404);
  const res = await app.request('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  text = await res.text();
});

afterAll(async () => {
  await runner.stop();
  await tc.close();
  await removeTestDir(dir);
});

describe('/metrics', () => {
  it('counts builds by state and the queue per system', () => {
    expect(sample('gbc_builds', { state: 'succeeded' })).toBe(1);
    expect(sample('gbc_builds', { state: 'failed' })).toBe(1);
    expect(sample('gbc_builds', { state: 'queued' })).toBe(2);
    expect(sample('gbc_queue_length', { system: 'x86_64-linux' })).toBe(2);
  });

  it('counts attempts by result, allocations, stored NARs and uploads', () => {
    expect(sample('gbc_attempts', { result: 'success' })).toBe(1);
    expect(sample('gbc_attempts', { result: 'build-failure' })).toBe(1);
    expect(sample('gbc_allocations_total')).toBe(2);
    expect(sample('gbc_stored_nar_bytes', { compression: 'zstd' })).toBe(700);
    expect(sample('gbc_stored_nar_bytes', { compression: 'gzip' })).toBe(800);
    expect(sample('gbc_upload_bytes_total', { kind: 'nar', outcome: 'ok' })).toBe(1000);
    expect(sample('gbc_upload_duration_seconds_count', { kind: 'nar', outcome: 'ok' })).toBe(1);
  });

  it('shows agents, their load and open attempts', () => {
    expect(sample('gbc_agents', { active: 'true' })).toBeGreaterThanOrEqual(1);
    expect(sample('gbc_agents', { active: 'false' })).toBe(1);
    expect(sample('gbc_agent_load', { agent: agentId, name: 'builder-1' })).toBe(1.5);
    expect(sample('gbc_agent_builds', { agent: agentId, name: 'builder-1' })).toBe(0);
  });

  it('shows the hook queue depth, failing events and runs', () => {
    expect(sample('gbc_hook_queue_depth', { event_type: 'build-success' })).toBe(2);
    expect(sample('gbc_hook_queue_depth', { event_type: 'build-failure' })).toBe(1);
    expect(sample('gbc_hook_failing_events', { event_type: 'build-failure' })).toBe(1);
    expect(sample('gbc_hook_runs', { event_type: 'build-failure', outcome: 'failed' })).toBe(1);
  });

  it('records request durations by route pattern, never by raw path', () => {
    expect(
      sample('gbc_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/build/:uuid/thing',
        status: '200',
      }),
    ).toBe(1);
    expect(
      sample('gbc_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }),
    ).toBe(1);
    expect(text).not.toContain('/build/123/thing');
    expect(
      text
        .split('\n')
        .filter((l) => /^[a-z]/.test(l))
        .every((l) => l.startsWith('gbc_')),
    ).toBe(true);
  });
});
