// Control over running builds, server side, through app.request() on a real
// datastore (SQLite file and PostgreSQL): time limits delivered with
// fetch-builds (the build's own, else the farm-wide defaults), a timeout
// recorded as such with its log kept, and canceling started builds (one, and
// by tag): the status response lists them, the agent's canceled report
// leaves them canceled, and nothing it uploaded is published.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBuild, showBuild } from '@gbc/datastore';
import { encodeUploadHeaders } from '@gbc/protocol';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { call, createTestPlace, fakeDrv, makeAgent, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { makeNar } from '../test-support/bytes.js';
import { narHashOf } from '../test-support/upload-fixtures.js';
import { resolveRetentionPolicy } from '../retention/policy.js';
import { runRetention } from '../retention/run-retention.js';
import { clientCall, startControlled } from './test-support.js';

describe.each(['sqlite', 'postgres'] as const)('running builds on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let agent: Awaited<ReturnType<typeof makeAgent>>;
  const outbox = async (type: string): Promise<unknown[]> =>
    (
      await c.context.datastore.db
        .selectFrom('outbox')
        .select('payload')
        .where('event_type', '=', type)
        .execute()
    ).map((r): unknown => JSON.parse(r.payload));

  beforeAll(async () => {
    place = createTestPlace(dialect);
    ({ c } = await startControlled(place, { buildTimeoutSeconds: 3600, maxSilentTimeSeconds: 300 }));
    agent = await makeAgent(c, 'runner');
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  /** Submits builds, fetches them all and reports each started. */
  const startBuilds = async (
    requests: { name: string; timeout?: number; maxSilentTime?: number; tag?: string }[],
  ) => {
    const drvs = requests.map((r) => fakeDrv(r.name));
    const ids = await submit(
      c,
      drvs,
      requests.map((r, i) => ({
        derivationPath: drvs[i]!.path,
        timeout: r.timeout ?? null,
        maxSilentTime: r.maxSilentTime ?? null,
        tags: r.tag === undefined ? [] : [{ key: 'job', value: r.tag }],
      })),
    );
    const res = await call(c, 'POST', `/agent/${agent.id}/fetch-builds`, agent.auth, {
      count: 10,
      systems: ['x86_64-linux'],
    });
    const fetched = (
      (await res.json()) as {
        builds: { uuid: string; timeoutSeconds: number | null; maxSilentTimeSeconds: number | null }[];
      }
    ).builds;
    expect(fetched.map((f) => f.uuid).sort()).toEqual([...ids].sort());
    for (const id of ids)
      expect((await call(c, 'POST', `/build/${id}/report-build-start`, agent.auth)).status).toBe(204);
    return { ids, drvs, fetched: new Map(fetched.map((f) => [f.uuid, f])) };
  };
  const status = async (builds: string[]) => {
    const res = await call(c, 'PUT', `/agent/${agent.id}/status`, agent.auth, { load1: 0.5, builds });
    expect(res.status).toBe(200);
    return (await res.json()) as { canceledBuilds: string[]; unknownBuilds: string[] };
  };

  it("delivers each build's own limits with fetch-builds, else the farm-wide defaults", async () => {
    const { ids, fetched } = await startBuilds([
      { name: 'own-limits', timeout: 600, maxSilentTime: 60 },
      { name: 'default-limits' },
      { name: 'half', timeout: 7200 },
    ]);
    expect(fetched.get(ids[0]!)).toMatchObject({ timeoutSeconds: 600, maxSilentTimeSeconds: 60 });
    expect(fetched.get(ids[1]!)).toMatchObject({ timeoutSeconds: 3600, maxSilentTimeSeconds: 300 });
    expect(fetched.get(ids[2]!)).toMatchObject({ timeoutSeconds: 7200, maxSilentTimeSeconds: 300 });
    for (const id of ids)
      expect(
        (await call(c, 'POST', `/build/${id}/report-result`, agent.auth, { result: 'build-failure' })).status,
      ).toBe(204);
  });

  it('records a build stopped by a limit as a timeout, with its log kept', async () => {
    const {
      ids: [id],
    } = await startBuilds([{ name: 'silent', maxSilentTime: 5 }]);
    const log = await c.agentApp.request(`/build/${id}/log`, {
      method: 'PUT',
      headers: { Authorization: agent.auth },
      body: 'starting\n',
    });
    expect(log.status).toBe(204);
    const res = await call(c, 'POST', `/build/${id}/report-result`, agent.auth, {
      result: 'timeout',
      limit: 'max-silent-time',
      message: 'no output for 5 s',
    });
    expect(res.status).toBe(204);
    const shown = await showBuild(c.context.datastore.db, id!);
    expect(shown?.state).toBe('failed');
    expect(shown?.attempts.at(-1)).toMatchObject({
      result: 'timeout',
      failureReason: 'max-silent-time: no output for 5 s',
    });
    const text = await clientCall(c, 'GET', `/build/${id}/log`);
    expect(text.status).toBe(200);
    expect(await text.text()).toBe('starting\n');
    expect(await outbox('build-failure')).toContainEqual(
      expect.objectContaining({ build: id, result: 'timeout' }),
    );
    const {
      ids: [other],
    } = await startBuilds([{ name: 'slow', timeout: 5 }]);
    expect(
      (
        await call(c, 'POST', `/build/${other}/report-result`, agent.auth, {
          result: 'timeout',
          limit: 'timeout',
        })
      ).status,
    ).toBe(204);
    expect((await showBuild(c.context.datastore.db, other!))?.attempts.at(-1)).toMatchObject({
      result: 'timeout',
      failureReason: 'timeout exceeded',
    });
  });

  it('cancels a started build: the status response lists it, the canceled report keeps it canceled and publishes nothing', async () => {
    const {
      ids: [id],
      drvs: [drv],
    } = await startBuilds([{ name: 'long-running' }]);
    const dir = mkdtempSync(join(tmpdir(), 'gbc-cancel-'));
    try {
      const nar = makeNar(dir, 512);
      const headers = {
        ...encodeUploadHeaders({ narHash: narHashOf(nar), narSize: nar.length, references: [] }),
        Authorization: agent.auth,
      };
      expect(
        (await c.agentApp.request(`/build/${id}/output/out`, { method: 'PUT', headers, body: nar })).status,
      ).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await status([id!])).canceledBuilds).toEqual([]);
    const cancel = await clientCall(c, 'POST', `/build/${id}/cancel`, undefined, {});
    expect(await cancel.json()).toEqual({ canceled: [id] });
    expect(await status([id!])).toMatchObject({ canceledBuilds: [id], unknownBuilds: [] });
    expect(
      (await call(c, 'POST', `/build/${id}/report-result`, agent.auth, { result: 'canceled' })).status,
    ).toBe(204);
    const shown = await showBuild(c.context.datastore.db, id!);
    expect(shown?.state).toBe('canceled');
    expect(shown?.attempts.at(-1)?.result).toBe('canceled');
    const out = drv!.outputs[0]!.path;
    expect(
      await c.context.datastore.db
        .selectFrom('output_metadata')
        .select('store_path')
        .where('store_path', '=', out)
        .execute(),
    ).toEqual([]);
    expect((await c.cacheApp.request(`/${out.slice(11, 43)}.narinfo`)).status).toBe(404);
    expect(await outbox('build-success')).not.toContainEqual(expect.objectContaining({ build: id }));
    expect(await outbox('build-canceled')).toContainEqual(
      expect.objectContaining({ build: id, previousState: 'started', agent: agent.id }),
    );
    expect(existsSync(join(c.context.storage.store.scratchDir, 'uploaded', id!))).toBe(false);
    // Its NAR file, named by no metadata, is an orphan that retention removes after the grace period.
    const orphan = await runRetention(
      {
        datastore: c.context.datastore,
        storage: c.context.storage.store,
        policy: resolveRetentionPolicy({ orphanGraceSeconds: 0 }),
        now: () => Date.now() + 1000,
      },
      { dryRun: true },
    );
    expect(orphan.orphanNars).toEqual([expect.stringContaining(out.slice(11))]);
    // A late success report cannot publish either: the attempt has ended.
    expect(
      (await call(c, 'POST', `/build/${id}/report-result`, agent.auth, { result: 'success' })).status,
    ).toBe(409);
    expect((await getBuild(c.context.datastore.db, id!))?.state).toBe('canceled');
  });

  it('tells the agent of a canceled build it fetched but did not start; its attempt is already over', async () => {
    const drv = fakeDrv('fetched-only');
    const [id] = await submit(c, [drv], [{ derivationPath: drv.path }]);
    expect(
      (
        await call(c, 'POST', `/agent/${agent.id}/fetch-builds`, agent.auth, {
          count: 1,
          systems: ['x86_64-linux'],
        })
      ).status,
    ).toBe(200);
    expect(await (await clientCall(c, 'POST', `/build/${id}/cancel`, undefined, {})).json()).toEqual({
      canceled: [id],
    });
    expect((await status([id!])).canceledBuilds).toEqual([id]);
    expect((await call(c, 'POST', `/build/${id}/report-build-start`, agent.auth)).status).toBe(409);
    expect((await showBuild(c.context.datastore.db, id!))?.attempts.at(-1)?.result).toBe('canceled');
  });

  it('cancels every started build with a tag, and only those', async () => {
    const { ids } = await startBuilds([
      { name: 'tag-a', tag: 'stale' },
      { name: 'tag-b', tag: 'stale' },
      { name: 'tag-c', tag: 'fresh' },
    ]);
    const res = await clientCall(c, 'POST', '/builds/cancel', undefined, {
      tags: [{ key: 'job', value: 'stale' }],
    });
    expect(((await res.json()) as { canceled: string[] }).canceled.sort()).toEqual([ids[0]!, ids[1]!].sort());
    expect((await status(ids)).canceledBuilds.sort()).toEqual([ids[0]!, ids[1]!].sort());
    for (const id of ids.slice(0, 2))
      expect(
        (await call(c, 'POST', `/build/${id}/report-result`, agent.auth, { result: 'canceled' })).status,
      ).toBe(204);
    // The untagged build stays the agent's; a canceled one listed again is still "canceled" (drop it).
    expect(await status([ids[2]!])).toMatchObject({ canceledBuilds: [], unknownBuilds: [] });
    expect((await status([ids[0]!])).canceledBuilds).toEqual([ids[0]]);
    for (const [i, state] of ['canceled', 'canceled', 'started'].entries())
      expect((await getBuild(c.context.datastore.db, ids[i]!))?.state).toBe(state);
  });
});
