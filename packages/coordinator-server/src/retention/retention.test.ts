// Retention on a real datastore (SQLite file and PostgreSQL) and a real data
// directory: outputs with references, inputs of unfinished builds, old and
// new logs, an orphan NAR and a size budget. Checks the dry run changes
// nothing, the run removes exactly what the policy says, and the cache stays
// consistent (no narinfo without its NAR, every kept output's references kept).
import { randomUUID } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordOutputMetadata } from '@gbc/datastore';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { createTestPlace, fakeDrv, hashPart, makeAgent, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';
import { clientCall, startControlled } from '../limits/test-support.js';
import { resolveRetentionPolicy } from './policy.js';
import { runRetention } from './run-retention.js';

const DAY = 86_400_000;
const path = (name: string): string => `/gnu/store/${hashPart()}-${name}`;
const fakeHash = 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s';

describe.each(['sqlite', 'postgres'] as const)('retention on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let now: number;
  const p: Record<string, string> = {};
  const size: Record<string, number> = {};
  const key = (name: string): string => `zstd/${p[name]!.slice(11)}`;
  let oldLog: string;
  let newLog: string;

  /** Stores an output: its NAR file and metadata, aged `days` (through its build's end when `build` is given). */
  const store = async (
    name: string,
    days: number,
    refs: string[],
    bytes: number,
    build?: number,
  ): Promise<void> => {
    size[name] = bytes;
    await c.context.storage.store.put('nar', key(name), new Uint8Array(bytes).fill(name.charCodeAt(0)));
    await recordOutputMetadata(
      c.context.datastore.db,
      [
        {
          storePath: p[name]!,
          narHash: fakeHash,
          narSize: bytes,
          references: refs.map((r) => p[r]!),
          files: [{ compression: 'zstd', fileSize: bytes, fileHash: null, location: key(name) }],
        },
      ],
      build === undefined ? now - days * DAY : now - 40 * DAY,
      build ?? null,
    );
  };
  const narinfo = async (name: string): Promise<number> =>
    (await c.cacheApp.request(`/${p[name]!.slice(11, 43)}.narinfo`)).status;
  const metadata = async (): Promise<{ store_path: string; references: string }[]> =>
    c.context.datastore.db.selectFrom('output_metadata').select(['store_path', 'references']).execute();

  beforeAll(async () => {
    place = createTestPlace(dialect);
    const started = await startControlled(place, {
      retention: { outputDays: 7, logDays: 3, orphanGraceSeconds: 3600 },
    });
    c = started.c;
    // Orphans are aged by their files' real modification times: run on the real time.
    now = Date.now();
    started.clock.set(now);
    const db = c.context.datastore.db;
    for (const n of ['A', 'K', 'B', 'C', 'D', 'E', 'F']) p[n] = path(n.toLowerCase());
    // G is the output of `dep`, which a queued build of `top` needs; D is a source a queued build needs.
    const dep = fakeDrv('dep');
    const top = fakeDrv('top', [dep]);
    const needsD = { ...fakeDrv('needs-d'), inputSources: [p.D!] };
    const done = fakeDrv('done');
    p.G = dep.outputs[0]!.path;
    const [, , doneBuild] = await submit(
      c,
      [dep, top, needsD, done],
      [{ derivationPath: top.path }, { derivationPath: needsD.path }, { derivationPath: done.path }],
    );
    await db
      .updateTable('builds')
      .set({ state: 'succeeded', ended_at: now - 2 * DAY })
      .where('uuid', '=', doneBuild!)
      .execute();
    const doneRow = (
      await db.selectFrom('builds').select('id').where('uuid', '=', doneBuild!).executeTakeFirstOrThrow()
    ).id;
    await store('A', 30, [], 1000);
    await store('K', 1, ['A', 'K'], 2000);
    await store('C', 30, [], 3000);
    await store('B', 20, ['C'], 4000);
    await store('E', 30, [], 5000);
    await store('D', 30, ['E'], 6000);
    await store('G', 30, [], 7000);
    // F's metadata is 40 days old but its build ended 2 days ago.
    await store('F', 0, [], 8000, doneRow);
    await c.context.storage.store.put('nar', 'zstd/orphan-old', new Uint8Array(9000));
    await utimes(
      join(place.dir, 'data', 'nar', 'zstd', 'orphan-old'),
      new Date(now - 2 * 3600_000),
      new Date(now - 2 * 3600_000),
    );
    await c.context.storage.store.put('nar', 'zstd/orphan-new', new Uint8Array(10));
    const agent = await makeAgent(c, 'logger');
    oldLog = `${doneBuild}/1.gz`;
    newLog = `${doneBuild}/2.gz`;
    for (const [log, ended] of [
      [oldLog, now - 5 * DAY],
      [newLog, now - DAY],
    ] as const) {
      await c.context.storage.store.put('log', log, new TextEncoder().encode(`log ${log}`));
      await db
        .insertInto('attempts')
        .values({
          uuid: randomUUID(),
          build_id: doneRow,
          agent_id: agent.id,
          allocated_at: ended - 1000,
          lease_expires_at: ended,
          started_at: ended - 500,
          ended_at: ended,
          result: 'success',
          log_location: log,
        })
        .execute();
    }
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });

  it('reports in a dry run what would go, and changes nothing', async () => {
    const res = await clientCall(c, 'POST', '/retention/run', undefined, { dryRun: true });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      dryRun: true,
      removedNars: 3,
      removedLogs: 1,
      freedBytes: 3000 + 4000 + 9000,
      keptBytes: 1000 + 2000 + 5000 + 6000 + 7000 + 8000,
    });
    const r = await runRetention(
      {
        datastore: c.context.datastore,
        storage: c.context.storage.store,
        policy: c.context.config.retention,
        now: () => now,
      },
      { dryRun: true },
    );
    expect(r.removedOutputs).toEqual([p.C, p.B]);
    expect(r.removedLogs).toEqual([oldLog]);
    expect(r.orphanNars).toEqual(['zstd/orphan-old']);
    expect((await metadata()).length).toBe(8);
    expect(await narinfo('B')).toBe(200);
    expect(await c.context.storage.store.stat('nar', 'zstd/orphan-old')).not.toBeNull();
  });

  it('removes exactly what the policy says and keeps the cache consistent', async () => {
    const res = await clientCall(c, 'POST', '/retention/run', undefined, {});
    expect(await res.json()).toMatchObject({
      dryRun: false,
      removedNars: 3,
      removedLogs: 1,
      freedBytes: 16000,
    });
    const kept = (await metadata()).map((m) => m.store_path).sort();
    expect(kept).toEqual(['A', 'D', 'E', 'F', 'G', 'K'].map((n) => p[n]!).sort());
    for (const n of ['B', 'C']) {
      expect(await narinfo(n), n).toBe(404);
      expect(await c.context.storage.store.stat('nar', key(n)), n).toBeNull();
    }
    await expectConsistent();
    expect(await c.context.storage.store.stat('nar', 'zstd/orphan-old')).toBeNull();
    expect(await c.context.storage.store.stat('nar', 'zstd/orphan-new')).not.toBeNull();
    expect(await c.context.storage.store.stat('log', oldLog)).toBeNull();
    expect(await c.context.storage.store.stat('log', newLog)).not.toBeNull();
    const logs = await c.context.datastore.db
      .selectFrom('attempts')
      .select('log_location')
      .where('log_location', 'is not', null)
      .execute();
    expect(logs.map((l) => l.log_location)).toEqual([newLog]);
  });

  it('keeps within a size budget by removing the oldest first, never an input of an unfinished build nor a reference of a kept output', async () => {
    const policy = resolveRetentionPolicy({
      outputDays: 7,
      narBudgetBytes: 5000 + 6000 + 7000 + 1000 + 2000,
    });
    const r = await runRetention({
      datastore: c.context.datastore,
      storage: c.context.storage.store,
      policy,
      now: () => now,
    });
    expect(r.removedOutputs).toEqual([p.F]);
    expect(r.keptBytes).toBe(21000);
    expect(r.overBudget).toBe(false);
    const tight = await runRetention({
      datastore: c.context.datastore,
      storage: c.context.storage.store,
      policy: resolveRetentionPolicy({ narBudgetBytes: 100 }),
      now: () => now,
    });
    // K and its reference A go; what unfinished builds need stays even over budget.
    expect(tight.removedOutputs).toEqual([p.A, p.K]);
    expect(tight.overBudget).toBe(true);
    expect((await metadata()).map((m) => m.store_path).sort()).toEqual(
      ['D', 'E', 'G'].map((n) => p[n]!).sort(),
    );
    await expectConsistent();
  });

  /** Every output left has its NAR file and its references' metadata; every NAR file left belongs to an output or is a young orphan. */
  async function expectConsistent(): Promise<void> {
    const rows = await metadata();
    const present = new Set(rows.map((r) => r.store_path));
    for (const r of rows) {
      for (const ref of JSON.parse(r.references) as string[])
        expect(present.has(ref), `${r.store_path} → ${ref}`).toBe(true);
      expect(await narinfo(Object.keys(p).find((n) => p[n] === r.store_path)!)).toBe(200);
    }
    const files = await c.context.datastore.db.selectFrom('output_files').select(['location']).execute();
    for (const f of files)
      expect(await c.context.storage.store.stat('nar', f.location!), f.location!).not.toBeNull();
  }
});
