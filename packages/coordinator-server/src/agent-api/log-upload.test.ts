// The live log routes through app.request() against a real datastore: PUT
// /build/{uuid}/log with ?offset= (append at the held length, skip bytes
// already held, refuse a gap) and GET /build/{uuid}/log-progress.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { collect } from '../test-support/bytes.js';
import { logKey } from '../storage/index.js';
import { heldAttempt } from './attempt-access.js';
import { call, createTestPlace, fakeDrv, makeAgent, startOn, submit } from './test-support.js';
import type { TestPlace } from './test-support.js';

describe.each(['sqlite', 'postgres'] as const)('log upload on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let a: Awaited<ReturnType<typeof makeAgent>>;
  let b: Awaited<ReturnType<typeof makeAgent>>;
  let build = '';
  beforeAll(async () => {
    place = createTestPlace(dialect);
    c = await startOn(place);
    a = await makeAgent(c, 'logger-a');
    b = await makeAgent(c, 'logger-b');
    const drv = fakeDrv('logged');
    [build] = (await submit(c, [drv], [{ derivationPath: drv.path }])) as [string];
    const res = await call(c, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, {
      count: 1,
      systems: ['x86_64-linux'],
    });
    expect(((await res.json()) as { builds: { uuid: string }[] }).builds.map((x) => x.uuid)).toEqual([build]);
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  const put = (text: string, offset?: number, auth = a.auth): Promise<Response> =>
    Promise.resolve(
      c.agentApp.request(`/build/${build}/log${offset === undefined ? '' : `?offset=${offset}`}`, {
        method: 'PUT',
        headers: { Authorization: auth, 'Content-Type': 'text/plain' },
        body: text,
      }),
    );
  const progress = async (auth = a.auth): Promise<unknown> => {
    const res = await call(c, 'GET', `/build/${build}/log-progress`, auth);
    expect(res.status).toBe(200);
    return res.json();
  };
  const stored = async (): Promise<string> => {
    const held = await heldAttempt(c.context.datastore.db, build, a.id);
    const reading = await c.context.storage.logs.read(logKey(held.buildId, held.attemptId));
    return reading === null ? '' : (await collect(reading.stream)).toString();
  };

  it('reports no bytes before any log, and answers only the holding agent', async () => {
    expect(await progress()).toEqual({ bytesReceived: 0, sealed: false });
    expect((await call(c, 'GET', `/build/${build}/log-progress`, b.auth)).status).toBe(403);
    expect(
      (await call(c, 'GET', '/build/7b0f3a52-6f3e-4d2c-9a1b-2c3d4e5f6a7b/log-progress', a.auth)).status,
    ).toBe(404);
  });

  it('appends a body whose offset is the held length, and without an offset as before', async () => {
    expect((await put('line 1\n', 0)).status).toBe(204);
    expect((await put('line 2\n', 7)).status).toBe(204);
    expect((await put('line 3\n')).status).toBe(204);
    expect(await progress()).toEqual({ bytesReceived: 21, sealed: false });
    expect(await stored()).toBe('line 1\nline 2\nline 3\n');
  });

  it('skips the bytes it already holds when a resend starts before the held length', async () => {
    // A resend from byte 7: line 2 and line 3 arrived already, line 4 is new.
    expect((await put('line 2\nline 3\nline 4\n', 7)).status).toBe(204);
    // Starting inside a line, and wholly held.
    expect((await put('ne 4\nline 5\n', 23)).status).toBe(204);
    expect((await put('line 1\n', 0)).status).toBe(204);
    expect(await progress()).toEqual({ bytesReceived: 35, sealed: false });
    expect(await stored()).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
  });

  it('refuses an offset past the held length with range-not-satisfiable and `received`, changing nothing', async () => {
    const res = await put('line 7\n', 42);
    expect(res.status).toBe(416);
    const body = (await res.json()) as {
      error: { code: string; message: string; details: { received: number } };
    };
    expect(body.error.code).toBe('range-not-satisfiable');
    expect(body.error.details.received).toBe(35);
    expect(body.error.message).toContain('resend from byte 35');
    expect(await progress()).toEqual({ bytesReceived: 35, sealed: false });
    expect(await stored()).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
  });

  it('refuses a negative or malformed offset with 400, and another agent with 403', async () => {
    expect((await put('x\n', -1)).status).toBe(400);
    expect(
      (
        await c.agentApp.request(`/build/${build}/log?offset=ten`, {
          method: 'PUT',
          headers: { Authorization: a.auth },
          body: 'x\n',
        })
      ).status,
    ).toBe(400);
    expect((await put('x\n', 35, b.auth)).status).toBe(403);
    expect(await stored()).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
  });
});
