// The guix-data-service hook against a real HTTP server in the test: one POST
// per event with the service's event names, the token in the query; an error
// answer fails the run and the retry succeeds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueEvents, getEvent } from '@gbc/datastore';
import { waitFor } from '../../test-support/bytes.js';
import { createHookRunner, type HookRunner } from '../hook-runner.js';
import { HOOK_EVENT_TYPES } from '../hook-types.js';
import { createGuixDataServiceHook } from './guix-data-service.js';
import {
  makeTestDir,
  openTestCoordinator,
  removeTestDir,
  type TestCoordinator,
} from '../testing/test-coordinator.js';
import type { ManualClock } from '../../clock.js';

interface Recorded {
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: { items: Record<string, unknown>[] };
}

let dir: string;
let tc: TestCoordinator;
let server: Server;
let runner: HookRunner;
const posts: Recorded[] = [];
let failNext = 0;

beforeAll(async () => {
  dir = await makeTestDir('gbc-gds-');
  tc = await openTestCoordinator(dir);
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      if (failNext > 0) {
        failNext -= 1;
        res.writeHead(503).end('maintenance');
        return;
      }
      posts.push({
        url: `${req.method} ${req.url}`,
        contentType: req.headers['content-type'],
        body: JSON.parse(body) as Recorded['body'],
      });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const hook = createGuixDataServiceHook({
    builtin: 'guix-data-service',
    url,
    buildServerId: 7,
    token: 'se cret',
  });
  runner = createHookRunner(tc.ctx, {
    hooks: new Map(HOOK_EVENT_TYPES.map((t) => [t, [hook]])),
    pollIntervalMs: 20,
    backoff: { baseMs: 1000 },
  });
  runner.start();
});

afterAll(async () => {
  await runner.stop();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await tc.close();
  await removeTestDir(dir);
});

const build = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const derivation = '/gnu/store/0123456789abcdfghijklmnpqrsvwxyz-hello-2.12.drv';

describe('guix-data-service hook', () => {
  it('POSTs each build event once with the service names, skipping missing-inputs', async () => {
    const db = tc.ctx.datastore.db;
    const ids = await enqueueEvents(
      db,
      HOOK_EVENT_TYPES.map((t) => ({ eventType: t, payload: { build, derivation } })),
      tc.ctx.clock.now(),
    );
    await waitFor(
      async () => (await Promise.all(ids.map((id) => getEvent(db, id)))).every((e) => e?.doneAt !== null),
      'every event to be done',
    );
    expect(posts.map((p) => p.url)).toEqual(
      Array(5).fill('POST /build-server/7/build-events?token=se%20cret'),
    );
    expect(posts[0]!.contentType).toBe('application/json');
    const items = posts.flatMap((p) => p.body.items);
    expect(items.map((i) => i.event).sort()).toEqual([
      'canceled',
      'failed',
      'scheduled',
      'started',
      'succeeded',
    ]);
    for (const i of items)
      expect(i).toEqual({
        type: 'build',
        event: i.event,
        build_id: build,
        derivation,
        timestamp: Math.floor(tc.ctx.clock.now() / 1000),
      });
  });

  it('retries after the service answers an error', async () => {
    posts.length = 0;
    failNext = 1;
    const db = tc.ctx.datastore.db;
    const [id] = await enqueueEvents(
      db,
      [{ eventType: 'build-success', payload: { build, derivation } }],
      tc.ctx.clock.now(),
    );
    await waitFor(async () => (await getEvent(db, id!))?.lastError !== null, 'the failure');
    expect((await getEvent(db, id!))?.lastError).toBe(
      'http-failed: the Guix Data Service at ' +
        `http://127.0.0.1:${(server.address() as AddressInfo).port}/` +
        ' answered 503: maintenance',
    );
    (tc.ctx.clock as ManualClock).advance(1000);
    runner.wake();
    await waitFor(async () => (await getEvent(db, id!))?.doneAt !== null, 'the retry');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body.items[0]!.event).toBe('succeeded');
  });
});
