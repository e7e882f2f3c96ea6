// Agent API through app.request() against a real datastore (SQLite file and
// PostgreSQL): auth (401/403), unknown ids (404), bad bodies (400), the life
// of a build (fetch, start, upload, result), setup failures, blocking by a
// failed dependency and its lifting, and deactivation releasing unstarted builds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SESSION_PASSWORDS_KEPT,
  createDynamicAuthToken,
  getBuild,
  setAgentActive,
  showBuild,
} from '@gbc/datastore';
import { encodeUploadHeaders } from '@gbc/protocol';
import { sql } from 'kysely';
import type { ManualClock } from '../clock.js';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import { makeNar } from '../test-support/bytes.js';
import { narHashOf } from '../test-support/upload-fixtures.js';
import { call, createTestPlace, fakeDrv, makeAgent, startOn, submit } from './test-support.js';
import type { TestPlace } from './test-support.js';

describe.each(['sqlite', 'postgres'] as const)('agent API on %s', (dialect) => {
  let place: TestPlace;
  let c: Coordinator;
  let a: Awaited<ReturnType<typeof makeAgent>>;
  let b: Awaited<ReturnType<typeof makeAgent>>;
  beforeAll(async () => {
    place = createTestPlace(dialect);
    c = await startOn(place);
    a = await makeAgent(c, 'agent-a');
    b = await makeAgent(c, 'agent-b');
  });
  afterAll(async () => {
    await c.stop();
    place.remove();
  });
  const fetchOne = async (agent: typeof a, count = 1) => {
    const res = await call(c, 'POST', `/agent/${agent.id}/fetch-builds`, agent.auth, {
      count,
      systems: ['x86_64-linux'],
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { builds: { uuid: string; attempt: string; derivation: string }[] }).builds;
  };

  it('refuses missing, wrong and malformed credentials with 401', async () => {
    expect(
      (
        await call(c, 'POST', `/agent/${a.id}/fetch-builds`, undefined, {
          count: 1,
          systems: ['x86_64-linux'],
        })
      ).status,
    ).toBe(401);
    const wrong = `Basic ${Buffer.from(`${a.id}:not-the-password`).toString('base64')}`;
    const res = await call(c, 'POST', `/agent/${a.id}/fetch-builds`, wrong, {
      count: 1,
      systems: ['x86_64-linux'],
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(
      (
        await call(c, 'PUT', `/agent/${a.id}/status`, `Basic ${Buffer.from('nobody:x').toString('base64')}`, {
          load1: 0,
          builds: [],
        })
      ).status,
    ).toBe(401);
  });

  it('exchanges a dynamic-auth token for credentials, creating the agent once; a bad token is 401', async () => {
    const { token } = await createDynamicAuthToken(c.context.datastore.db);
    const first = await call(c, 'POST', '/agent/session', undefined, { name: 'dyn-1', token });
    expect(first.status).toBe(200);
    const s1 = (await first.json()) as { agent: string; password: string; created: boolean };
    expect(s1.created).toBe(true);
    const again = (await (
      await call(c, 'POST', '/agent/session', undefined, { name: 'dyn-1', token })
    ).json()) as { agent: string; created: boolean };
    expect(again).toMatchObject({ agent: s1.agent, created: false });
    const auth = `Basic ${Buffer.from(`${s1.agent}:${s1.password}`).toString('base64')}`;
    expect((await call(c, 'PUT', `/agent/${s1.agent}/status`, auth, { load1: 0.5, builds: [] })).status).toBe(
      200,
    );
    expect(
      (await call(c, 'POST', '/agent/session', undefined, { name: 'dyn-2', token: 'x'.repeat(32) })).status,
    ).toBe(401);
    expect((await call(c, 'POST', '/agent/session', undefined, { name: '', token })).status).toBe(400);
  });

  it('answers 403 for another agent, 400 with the schema message for bad bodies, 404 for unknown builds', async () => {
    expect((await call(c, 'PUT', `/agent/${b.id}/status`, a.auth, { load1: 0, builds: [] })).status).toBe(
      403,
    );
    const bad = await call(c, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, {
      count: 0,
      systems: ['x86_64-linux'],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('count');
    const notJson = await c.agentApp.request(`/agent/${a.id}/fetch-builds`, {
      method: 'POST',
      headers: { Authorization: a.auth, 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    const unknown = '7b0f3a52-6f3e-4d2c-9a1b-2c3d4e5f6a7b';
    for (const path of [`/build/${unknown}/closure`])
      expect((await call(c, 'GET', path, a.auth)).status).toBe(404);
    expect((await call(c, 'POST', `/build/${unknown}/report-build-start`, a.auth)).status).toBe(404);
    expect(
      (await call(c, 'POST', `/build/${unknown}/report-result`, a.auth, { result: 'success' })).status,
    ).toBe(404);
    expect(
      (await call(c, 'POST', `/build/not-a-uuid/report-result`, a.auth, { result: 'success' })).status,
    ).toBe(400);
    expect((await call(c, 'GET', `/derivation/${'a'.repeat(32)}-nothing.drv`, a.auth)).status).toBe(404);
  });

  it('looks a derivation up by its exact name: _ and % are not wildcards, case matters', async () => {
    const drv = fakeDrv('exactXlookup');
    await submit(c, [drv], []);
    const base = drv.path.slice('/gnu/store/'.length);
    expect((await call(c, 'GET', `/derivation/${base}`, a.auth)).status).toBe(200);
    for (const probe of [
      base.replace('exactXlookup', 'exact_lookup'),
      base.replace('exactXlookup', 'EXACTXLOOKUP'),
    ]) {
      expect((await call(c, 'GET', `/derivation/${probe}`, a.auth)).status, probe).toBe(404);
    }
  });

  it('refuses oversized lists and NUL characters with 400 on both databases, never a 500', async () => {
    const systems = Array.from({ length: 20_000 }, (_, i) => `x86_64-linux${i}`);
    const many = await call(c, 'PUT', `/agent/${a.id}/status`, a.auth, { load1: 0, builds: [], systems });
    expect(many.status).toBe(400);
    expect((await call(c, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, { count: 1, systems })).status).toBe(
      400,
    );
    expect(
      (
        await call(c, 'PUT', `/agent/${a.id}/status`, a.auth, {
          load1: 0,
          builds: [],
          systems: [`${'x'.repeat(100)}-linux`],
        })
      ).status,
    ).toBe(400);
    const { token } = await createDynamicAuthToken(c.context.datastore.db);
    const nul = await call(c, 'POST', '/agent/session', undefined, { name: 'evil\u0000name', token });
    expect(nul.status).toBe(400);
    expect(JSON.stringify(await nul.json())).toContain('NUL');
  });

  it("a dynamic-auth token resumes only the agents it created, never an operator's or another token's", async () => {
    const db = c.context.datastore.db;
    const [mine, theirs] = [await createDynamicAuthToken(db), await createDynamicAuthToken(db)];
    // The attack: an operator's agent, taken over by name with any valid token.
    const operators = await makeAgent(c, 'operator-builder');
    const takeover = await call(c, 'POST', '/agent/session', undefined, {
      name: 'operator-builder',
      token: mine.token,
    });
    expect(takeover.status).toBe(403);
    expect(((await takeover.json()) as { error: { message: string } }).error.message).toContain(
      'not created with this dynamic-auth token',
    );
    expect(
      (await call(c, 'PUT', `/agent/${operators.id}/status`, operators.auth, { load1: 0, builds: [] }))
        .status,
    ).toBe(200);
    // Its own agent: created, then resumed; another token may not resume it.
    expect(
      (await call(c, 'POST', '/agent/session', undefined, { name: 'token-made', token: mine.token })).status,
    ).toBe(200);
    expect(
      (await call(c, 'POST', '/agent/session', undefined, { name: 'token-made', token: mine.token })).status,
    ).toBe(200);
    expect(
      (await call(c, 'POST', '/agent/session', undefined, { name: 'token-made', token: theirs.token }))
        .status,
    ).toBe(403);
  });

  it('keeps only the newest session passwords of a dynamic agent: sessions do not pile up hashes', async () => {
    const { token } = await createDynamicAuthToken(c.context.datastore.db);
    const sessions: { agent: string; password: string }[] = [];
    for (let i = 0; i < SESSION_PASSWORDS_KEPT + 2; i++) {
      sessions.push(
        (await (
          await call(c, 'POST', '/agent/session', undefined, { name: 'many-sessions', token })
        ).json()) as { agent: string; password: string },
      );
    }
    const works = async (s: { agent: string; password: string }) =>
      (
        await call(
          c,
          'PUT',
          `/agent/${s.agent}/status`,
          `Basic ${Buffer.from(`${s.agent}:${s.password}`).toString('base64')}`,
          { load1: 0, builds: [] },
        )
      ).status;
    expect(await Promise.all(sessions.map(works))).toEqual([
      401,
      401,
      ...Array<number>(SESSION_PASSWORDS_KEPT).fill(200),
    ]);
  });

  it('runs a build: fetch, closure, derivation text, start, status renewal; success needs uploaded outputs', async () => {
    const dep = fakeDrv('dep');
    const top = fakeDrv('top', [dep]);
    const [depBuild] = await submit(c, [dep, top], [{ derivationPath: dep.path, priority: 5 }]);
    const got = await fetchOne(a);
    expect(got.map((g) => g.uuid)).toEqual([depBuild]);
    expect((await fetchOne(a)).length).toBe(0);
    // Another agent may not touch it.
    expect((await call(c, 'POST', `/build/${depBuild}/report-build-start`, b.auth)).status).toBe(403);
    const closure = (await (await call(c, 'GET', `/build/${depBuild}/closure`, a.auth)).json()) as {
      derivations: string[];
    };
    expect(closure.derivations).toEqual([dep.path]);
    const text = await call(c, 'GET', `/derivation/${dep.path.slice('/gnu/store/'.length)}`, a.auth);
    expect(Buffer.from(await text.arrayBuffer()).equals(Buffer.from(dep.text))).toBe(true);
    expect((await call(c, 'POST', `/build/${depBuild}/report-build-start`, a.auth)).status).toBe(204);
    expect((await getBuild(c.context.datastore.db, depBuild!))?.state).toBe('started');
    const status = (await (
      await call(c, 'PUT', `/agent/${a.id}/status`, a.auth, {
        load1: 1,
        builds: [depBuild, '7b0f3a52-6f3e-4d2c-9a1b-2c3d4e5f6a7b'],
      })
    ).json()) as { unknownBuilds: string[]; canceledBuilds: string[]; active: boolean };
    expect(status).toMatchObject({
      unknownBuilds: ['7b0f3a52-6f3e-4d2c-9a1b-2c3d4e5f6a7b'],
      canceledBuilds: [],
      active: true,
    });
    const early = await call(c, 'POST', `/build/${depBuild}/report-result`, a.auth, { result: 'success' });
    expect(early.status).toBe(409);
    // Upload a real NAR for `out`, then success is accepted and records the output.
    const dir = mkdtempSync(join(tmpdir(), 'gbc-nar-'));
    try {
      const nar = makeNar(dir, 1024);
      const headers = {
        ...encodeUploadHeaders({ narHash: narHashOf(nar), narSize: nar.length, references: [] }),
        Authorization: a.auth,
        'Content-Type': 'application/x-nix-nar',
      };
      const bad = await c.agentApp.request(`/build/${depBuild}/output/out`, {
        method: 'PUT',
        headers: { ...headers, 'x-gbc-nar-size': String(nar.length + 1) },
        body: nar,
      });
      expect(bad.status).toBe(400);
      const up = await c.agentApp.request(`/build/${depBuild}/output/out`, {
        method: 'PUT',
        headers,
        body: nar,
      });
      expect(up.status).toBe(200);
      expect(((await up.json()) as { narSize: number }).narSize).toBe(nar.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(
      (await call(c, 'POST', `/build/${depBuild}/report-result`, a.auth, { result: 'success' })).status,
    ).toBe(204);
    const shown = await showBuild(c.context.datastore.db, depBuild!);
    expect(shown?.state).toBe('succeeded');
    // The attempt is named by its own (version 7) UUID, the same one a client sees.
    expect(got[0]!.attempt).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(shown?.attempts.map((x) => x.uuid)).toEqual([got[0]!.attempt]);
    expect(shown?.outputMetadata.map((m) => m.storePath)).toEqual([dep.outputs[0]!.path]);
    // Now top's input is available: it becomes ready.
    const [topBuild] = await submit(c, [], [{ derivationPath: top.path }]);
    expect((await fetchOne(b)).map((g) => g.uuid)).toEqual([topBuild]);
    expect(
      (await call(c, 'POST', `/build/${topBuild}/report-result`, b.auth, { result: 'canceled' })).status,
    ).toBe(204);
  });

  it("sends each build's own closure with the allocation when asked, as the closure route answers it", async () => {
    const dep = fakeDrv('with-closure-dep');
    const top = fakeDrv('with-closure-top', [dep]);
    const [depBuild] = await submit(c, [dep, top], [{ derivationPath: dep.path }]);
    const plain = await fetchOne(a);
    expect(plain.map((g) => g.uuid)).toEqual([depBuild]);
    expect(plain[0]).not.toHaveProperty('closure');
    await call(c, 'POST', `/build/${depBuild}/report-result`, a.auth, { result: 'canceled' });
    const [again] = await submit(c, [], [{ derivationPath: dep.path }]);
    const res = await call(c, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, {
      count: 1,
      systems: ['x86_64-linux'],
      closures: 'own',
    });
    const got = ((await res.json()) as { builds: { uuid: string; closure?: unknown }[] }).builds;
    expect(got.map((g) => g.uuid)).toEqual([again]);
    const own = await (await call(c, 'GET', `/build/${again}/closure?derivations=own`, a.auth)).json();
    expect(got[0]!.closure).toEqual(own);
    expect((own as { derivations: string[] }).derivations).toEqual([dep.path]);
    await call(c, 'POST', `/build/${again}/report-result`, a.auth, { result: 'canceled' });

    // A closure that cannot be read leaves the build without one (the agent asks for it), not stranded.
    const [third] = await submit(c, [], [{ derivationPath: dep.path }]);
    const db = c.context.datastore.db;
    await sql`alter table derivation_sources rename to derivation_sources_away`.execute(db);
    try {
      const res2 = await call(c, 'POST', `/agent/${a.id}/fetch-builds`, a.auth, {
        count: 1,
        systems: ['x86_64-linux'],
        closures: 'own',
      });
      expect(res2.status).toBe(200);
      const got2 = ((await res2.json()) as { builds: { uuid: string; closure?: unknown }[] }).builds;
      expect(got2.map((g) => g.uuid)).toEqual([third]);
      expect(got2[0]).not.toHaveProperty('closure');
    } finally {
      await sql`alter table derivation_sources_away rename to derivation_sources`.execute(db);
    }
    await call(c, 'POST', `/build/${third}/report-result`, a.auth, { result: 'canceled' });
  });

  it('blocks dependents of a failure and unblocks them when the derivation later succeeds', async () => {
    const dep = fakeDrv('fails');
    const top = fakeDrv('waits', [dep]);
    const [depBuild, topBuild] = await submit(
      c,
      [dep, top],
      [{ derivationPath: dep.path }, { derivationPath: top.path }],
    );
    expect(c.scheduler.explain(topBuild!).reasons.map((r) => r.kind)).toEqual(['inputs-pending']);
    expect((await fetchOne(a, 5)).map((g) => g.uuid)).toEqual([depBuild]);
    expect(
      (
        await call(c, 'POST', `/build/${depBuild}/report-result`, a.auth, {
          result: 'build-failure',
          message: 'exit 1',
        })
      ).status,
    ).toBe(204);
    expect((await getBuild(c.context.datastore.db, topBuild!))?.blockedBy).toBe(dep.path);
    expect(c.scheduler.explain(topBuild!).reasons.map((r) => r.kind)).toContain('inputs-failed');
    // Result twice: the attempt ended.
    expect(
      (await call(c, 'POST', `/build/${depBuild}/report-result`, a.auth, { result: 'success' })).status,
    ).toBe(409);
    // A new build of the same derivation succeeds, with its output uploaded.
    const [retry] = await submit(c, [], [{ derivationPath: dep.path }]);
    expect((await fetchOne(a, 5)).map((g) => g.uuid)).toEqual([retry]);
    const dir = mkdtempSync(join(tmpdir(), 'gbc-nar-'));
    try {
      const nar = makeNar(dir, 512);
      const headers = {
        ...encodeUploadHeaders({ narHash: narHashOf(nar), narSize: nar.length, references: [] }),
        Authorization: a.auth,
      };
      expect(
        (await c.agentApp.request(`/build/${retry}/output/out`, { method: 'PUT', headers, body: nar }))
          .status,
      ).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(
      (await call(c, 'POST', `/build/${retry}/report-result`, a.auth, { result: 'success' })).status,
    ).toBe(204);
    expect((await getBuild(c.context.datastore.db, topBuild!))?.blockedBy).toBeNull();
    expect((await fetchOne(a, 5)).map((g) => g.uuid)).toEqual([topBuild]);
    expect(
      (await call(c, 'POST', `/build/${topBuild}/report-result`, a.auth, { result: 'canceled' })).status,
    ).toBe(204);
  });

  it('a setup failure sends the build back to wait for the missing inputs', async () => {
    const drv = fakeDrv('needs-input');
    const [id] = await submit(c, [drv], [{ derivationPath: drv.path }]);
    expect((await fetchOne(a)).map((g) => g.uuid)).toEqual([id]);
    const missing = `/gnu/store/${'b'.repeat(32)}-missing-input`;
    expect(
      (
        await call(c, 'POST', `/build/${id}/report-setup-failure`, a.auth, {
          reason: 'missing-inputs',
          missingInputs: [],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(c, 'POST', `/build/${id}/report-setup-failure`, a.auth, {
          reason: 'missing-inputs',
          missingInputs: [missing],
        })
      ).status,
    ).toBe(204);
    const shown = await showBuild(c.context.datastore.db, id!);
    expect(shown?.state).toBe('queued');
    expect(shown?.setupFailures[0]?.missingInputs).toEqual([missing]);
    expect(c.scheduler.explain(id!).reasons).toEqual([
      { kind: 'inputs-pending', inputs: [{ path: missing }] },
    ]);
    expect((await fetchOne(a)).length).toBe(0);
    c.scheduler.notifyPathsAvailable([missing]);
    expect((await fetchOne(a)).map((g) => g.uuid)).toEqual([id]);
    expect((await call(c, 'POST', `/build/${id}/report-result`, a.auth, { result: 'canceled' })).status).toBe(
      204,
    );
  });

  it('deactivating an agent releases its unstarted builds to others', async () => {
    const x = await makeAgent(c, 'agent-x');
    const drv = fakeDrv('released');
    const [id] = await submit(c, [drv], [{ derivationPath: drv.path }]);
    expect((await fetchOne(x)).map((g) => g.uuid)).toEqual([id]);
    await setAgentActive(c.context.datastore.db, x.id, false);
    await c.scheduler.notifyAgentChanged(x.id);
    expect((await getBuild(c.context.datastore.db, id!))?.state).toBe('queued');
    expect((await fetchOne(b)).map((g) => g.uuid)).toEqual([id]);
    expect((await call(c, 'POST', `/build/${id}/report-result`, b.auth, { result: 'canceled' })).status).toBe(
      204,
    );
  });

  it('a status report releases what the agent lost (restarted, or the allocation never reached it), not an answer on its way', async () => {
    const x = await makeAgent(c, 'agent-restarted');
    const clock = c.context.clock as ManualClock;
    const report = async (builds: readonly string[]) => {
      const res = await call(c, 'PUT', `/agent/${x.id}/status`, x.auth, { load1: 0, builds });
      expect(res.status).toBe(200);
      clock.advance(1_000);
    };
    const drvs = ['lost-started', 'lost-allocated', 'on-its-way'].map((n) => fakeDrv(n));
    const ids = await submit(
      c,
      drvs,
      drvs.map((d) => ({ derivationPath: d.path })),
    );
    await report([]);
    const [started, allocated] = (await fetchOne(x, 2)).map((g) => g.uuid);
    const onItsWay = ids.find((id) => id !== started && id !== allocated);
    expect((await call(c, 'POST', `/build/${started}/report-build-start`, x.auth)).status).toBe(204);
    clock.advance(1_000);
    // The agent holds both: both renewed, nothing released.
    await report([started!, allocated!]);
    // Killed and restarted with the same identity: it holds nothing now. Meanwhile a third
    // build was allocated whose answer may still be travelling: the report after the
    // allocation must not release it.
    expect((await fetchOne(x)).map((g) => g.uuid)).toEqual([onItsWay]);
    clock.advance(1_000);
    await report([]);
    for (const id of [started, allocated])
      expect((await getBuild(c.context.datastore.db, id!))?.state).toBe('queued');
    expect((await getBuild(c.context.datastore.db, onItsWay!))?.state).toBe('allocated');
    const shown = await showBuild(c.context.datastore.db, started!);
    expect(shown?.attempts.at(-1)).toMatchObject({
      result: 'infrastructure-failure',
      failureReason: expect.stringContaining('no longer holds'),
    });
    // Released builds are back in the scheduler's queue: another agent gets them.
    expect((await fetchOne(b, 5)).map((g) => g.uuid).sort()).toEqual([started, allocated].sort());
    // The next report without the third build releases it too (one interval later).
    await report([]);
    expect((await getBuild(c.context.datastore.db, onItsWay!))?.state).toBe('queued');
    // A result for a released attempt is refused (403): the build is another agent's now.
    const late = await call(c, 'POST', `/build/${started}/report-result`, x.auth, { result: 'success' });
    expect(late.status, await late.clone().text()).toBe(403);
    for (const id of [started, allocated])
      expect(
        (await call(c, 'POST', `/build/${id}/report-result`, b.auth, { result: 'canceled' })).status,
      ).toBe(204);
  });
});
