// Build routes through app.request() with a real coordinator: list with
// filters and keyset pages, show, why (every reason), priority, cancel one or
// by tag (started builds too), the allocation plan, and 404/409/400 answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimBuildsById,
  finishAttempt,
  recordAgentStatus,
  setAgentSystems,
  startAttempt,
} from '@gbc/datastore';
import { encodeDerivationText } from '@gbc/protocol';
import type { AgentDetail, Build, BuildDetail, WhyResponse } from '@gbc/protocol';
import { DIALECTS, outboxCount, startTestCoordinator, syntheticDerivation } from './test-support.js';
import type { SyntheticDerivation, TestCoordinator } from './test-support.js';

const ABSENT = '00000000-0000-4000-8000-00000000abcd';

describe.each(DIALECTS)('client build routes on %s', (dialect) => {
  let t: TestCoordinator;
  const drv = (name: string, inputs: SyntheticDerivation[] = [], system?: string) =>
    syntheticDerivation(`${name}-${dialect}`, inputs, system);
  const a = drv('a');
  const b = drv('b', [a]);
  const x = drv('x', [], 'aarch64-linux');
  const ids: Record<string, string> = {};
  let agent = '';
  const submit = async (d: SyntheticDerivation, extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await t.json('POST', '/builds', { derivation: d.path, ...extra });
    expect(res.status).toBe(200);
    return ((await res.json()) as { uuid: string }).uuid;
  };
  const why = async (id: string) => (await (await t.request(`/build/${id}/why`)).json()) as WhyResponse;
  const show = async (id: string) => (await (await t.request(`/build/${id}`)).json()) as BuildDetail;
  const db = () => t.coordinator.context.datastore.db;

  beforeAll(async () => {
    t = await startTestCoordinator(dialect);
    const up = await t.json('POST', '/derivations', {
      derivations: [a, b, x].map((d) => ({ path: d.path, text: encodeDerivationText(d.bytes) })),
    });
    expect(up.status).toBe(200);
    ids.a = await submit(a, { tags: [{ key: 'job', value: 'one' }] });
    ids.b = await submit(b, { tags: [{ key: 'job', value: 'one' }], priority: 3 });
    ids.x = await submit(x, { tags: [{ key: 'job', value: 'two' }] });
  });
  // undefined when beforeAll failed before the coordinator started
  afterAll(async () => (t as TestCoordinator | undefined)?.close());

  it('refuses NUL characters in tags and names with 400 (PostgreSQL cannot store them)', async () => {
    for (const tags of [[{ key: 'job', value: 'one\u0000' }], [{ key: 'j\u0000b', value: 'one' }]]) {
      expect((await t.json('POST', '/builds', { derivation: a.path, tags })).status).toBe(400);
    }
    expect((await t.json('POST', '/agents', { name: 'nul\u0000agent' })).status).toBe(400);
    expect(
      (await t.json('POST', '/agents', { name: 'tagged', tags: [{ key: 'k', value: '\u0000' }] })).status,
    ).toBe(400);
  });

  it('explains a queued build: inputs pending and no agent for its system', async () => {
    const w = await why(ids.b!);
    expect(w.state).toBe('queued');
    expect(w.reasons).toContainEqual({
      kind: 'inputs-pending',
      inputs: [{ derivation: a.path, build: ids.a, state: 'queued' }],
    });
    expect(w.reasons).toContainEqual({
      kind: 'no-matching-agent',
      system: 'x86_64-linux',
      tags: [{ key: 'job', value: 'one' }],
    });
  });

  it('creates an agent; a ready build then only waits for its turn', async () => {
    const res = await t.json('POST', '/agents', {
      name: `builder-${dialect}`,
      tags: [{ key: 'job', value: 'one' }],
    });
    expect(res.status).toBe(201);
    agent = ((await res.json()) as { agent: { uuid: string } }).agent.uuid;
    await setAgentSystems(db(), agent, ['x86_64-linux']);
    await t.coordinator.scheduler.notifyAgentChanged(agent);
    expect((await why(ids.a!)).reasons).toEqual([{ kind: 'queued', position: 0 }]);
    const wx = await why(ids.x!);
    expect(wx.reasons).toEqual([
      { kind: 'no-matching-agent', system: 'aarch64-linux', tags: [{ key: 'job', value: 'two' }] },
    ]);
  });

  it('shows the allocation plan of the active agents', async () => {
    const res = await t.request('/allocation-plan?limit=5');
    expect(res.status).toBe(200);
    const plan = (await res.json()) as { strategy: string; agents: { agent: string; builds: string[] }[] };
    expect(plan.strategy).toBe('basic');
    expect(plan.agents).toEqual([{ agent, builds: [ids.a] }]);
    expect((await t.request('/allocation-plan?limit=0')).status).toBe(400);
  });

  it('follows a build through allocated, started and failed; dependents become blocked', async () => {
    const now = t.clock.now();
    const [claim] = await claimBuildsById(db(), [ids.a!], { agentId: agent, leaseMs: 60_000, now });
    await t.coordinator.scheduler.refresh([ids.a!]);
    expect((await why(ids.a!)).reasons).toEqual([
      { kind: 'allocated', agent, leaseExpiresAt: new Date(now + 60_000).toISOString() },
    ]);
    await startAttempt(db(), claim!.attemptId, agent, 60_000, now);
    expect((await why(ids.a!)).reasons).toEqual([
      { kind: 'started', agent, startedAt: new Date(now).toISOString() },
    ]);
    await recordAgentStatus(db(), agent, { load1: 0.5, freeDiskBytes: null, builds: [ids.a] }, now);
    const byAgent = (await (await t.request(`/builds?agent=${agent}`)).json()) as { builds: Build[] };
    expect(byAgent.builds.map((bb) => bb.uuid)).toEqual([ids.a]);
    expect(
      ((await (await t.request(`/builds?agent=${agent}&state=queued`)).json()) as { builds: Build[] }).builds,
    ).toEqual([]);
    const shownAgent = (await (await t.request(`/agent/${agent}`)).json()) as AgentDetail;
    expect(shownAgent.startedBuilds).toEqual([ids.a]);
    expect(shownAgent.status!.load1).toBe(0.5);
    expect(shownAgent.recentAttempts).toEqual([]);
    const started = await show(ids.a!);
    expect(started.agent).toBe(agent);
    expect(started.attempts).toHaveLength(1);
    await finishAttempt(
      db(),
      claim!.attemptId,
      agent,
      { result: 'build-failure', failureReason: 'exit 1' },
      now + 1000,
    );
    await t.coordinator.scheduler.refresh([ids.a!, ids.b!]);
    expect((await why(ids.a!)).reasons).toEqual([
      { kind: 'finished', state: 'failed', endedAt: new Date(now + 1000).toISOString() },
    ]);
    const wb = await why(ids.b!);
    expect(wb.reasons).toContainEqual({
      kind: 'inputs-failed',
      inputs: [{ derivation: a.path, build: ids.a, state: 'failed' }],
    });
    const sb = await show(ids.b!);
    expect(sb.blockedByFailedDependency).toBe(true);
    expect(sb.blockedBy).toEqual([ids.a]);
    expect(sb.outputs).toEqual([
      { name: 'out', path: b.outputs.get('out'), narHash: null, narSize: null, references: [] },
    ]);
    // The agent's page now lists the attempt as finished, no longer as started.
    const after = (await (await t.request(`/agent/${agent}`)).json()) as AgentDetail;
    expect(after.startedBuilds).toEqual([]);
    expect(after.recentAttempts).toEqual([
      {
        uuid: started.attempts[0]!.uuid,
        build: ids.a,
        derivation: a.path,
        system: 'x86_64-linux',
        allocatedAt: new Date(now).toISOString(),
        startedAt: new Date(now).toISOString(),
        endedAt: new Date(now + 1000).toISOString(),
        result: 'build-failure',
        failureReason: 'exit 1',
      },
    ]);
    const sa = await show(ids.a!);
    expect(sa.attempts[0]).toMatchObject({
      agent,
      result: 'build-failure',
      failureReason: 'exit 1',
      hasLog: false,
    });
  });

  it('lists builds newest first with filters and stable keyset pages', async () => {
    const all = (await (await t.request('/builds')).json()) as { builds: Build[]; nextCursor: string | null };
    expect(all.builds.map((bb) => bb.uuid)).toEqual([ids.x, ids.b, ids.a]);
    expect(all.nextCursor).toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await t.request(`/builds?limit=1${cursor === null ? '' : `&cursor=${cursor}`}`)
      ).json()) as { builds: Build[]; nextCursor: string | null };
      seen.push(...page.builds.map((bb) => bb.uuid));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([ids.x, ids.b, ids.a]);
    const byTag = (await (await t.request('/builds?tag=job=one&state=queued')).json()) as { builds: Build[] };
    expect(byTag.builds.map((bb) => bb.uuid)).toEqual([ids.b]);
    const bySystem = (await (await t.request('/builds?system=aarch64-linux')).json()) as { builds: Build[] };
    expect(bySystem.builds.map((bb) => bb.uuid)).toEqual([ids.x]);
    const blocked = (await (await t.request('/builds?blocked=true')).json()) as { builds: Build[] };
    expect(blocked.builds.map((bb) => bb.uuid)).toEqual([ids.b]);
    const byDrv = (await (
      await t.request(`/builds?derivation=${encodeURIComponent(a.path)}&state=failed&state=succeeded`)
    ).json()) as { builds: Build[] };
    expect(byDrv.builds.map((bb) => bb.uuid)).toEqual([ids.a]);
    const uuids = async (query: string) =>
      ((await (await t.request(`/builds?${query}`)).json()) as { builds: Build[] }).builds.map(
        (bb) => bb.uuid,
      );
    expect(await uuids('priorityMin=1')).toEqual([ids.b]);
    expect(await uuids('priorityMax=0')).toEqual([ids.x, ids.a]);
    expect(await uuids('priorityMin=-5&priorityMax=3&tag=job=one')).toEqual([ids.b, ids.a]);
    // Time bounds are applied by the datastore, not to a page: no empty page that points at more.
    const old = (await (await t.request('/builds?createdBefore=2000-01-01T00:00:00Z&limit=1')).json()) as {
      builds: Build[];
      nextCursor: string | null;
    };
    expect(old).toEqual({ builds: [], nextCursor: null });
    expect(await uuids('createdBefore=2999-01-01T00:00:00Z&limit=2')).toEqual([ids.x, ids.b]);
    for (const bad of [
      'priorityMin=high',
      'priorityMin=1.5',
      'priorityMax=99999999999',
      'createdBefore=soon',
    ])
      expect((await t.request(`/builds?${bad}`)).status, bad).toBe(400);
    expect((await t.request('/builds?state=bogus')).status).toBe(400);
    expect((await t.request('/builds?cursor=garbage')).status).toBe(400);
    expect((await t.request('/builds?limit=5000')).status).toBe(400);
  });

  it('updates the priority of an unfinished build, 409 for a finished one', async () => {
    const res = await t.json('POST', `/build/${ids.x}/update-priority`, { priority: 42 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Build).priority).toBe(42);
    expect((await t.json('POST', `/build/${ids.a}/update-priority`, { priority: 1 })).status).toBe(409);
    expect((await t.json('POST', `/build/${ABSENT}/update-priority`, { priority: 1 })).status).toBe(404);
    expect((await t.json('POST', `/build/${ids.x}/update-priority`, { priority: 'high' })).status).toBe(400);
  });

  it('cancels one build (and says 409 when it has ended), with build-canceled events', async () => {
    const before = await outboxCount(db(), 'build-canceled');
    const res = await t.json('POST', `/build/${ids.x}/cancel`, {});
    expect(await res.json()).toEqual({ canceled: [ids.x] });
    expect((await show(ids.x!)).state).toBe('canceled');
    expect((await why(ids.x!)).reasons[0]).toMatchObject({ kind: 'finished', state: 'canceled' });
    expect((await t.json('POST', `/build/${ids.x}/cancel`, {})).status).toBe(409);
    expect(await (await t.json('POST', `/build/${ids.x}/cancel`, { ignoreIfFinished: true })).json()).toEqual(
      { canceled: [] },
    );
    expect((await t.json('POST', `/build/${ABSENT}/cancel`, {})).status).toBe(404);
    expect(await outboxCount(db(), 'build-canceled')).toBe(before + 1);
  });

  it('cancels a started build; its agent learns it from its next status report', async () => {
    const c = drv('c');
    await t.json('POST', '/derivations', {
      derivations: [{ path: c.path, text: encodeDerivationText(c.bytes) }],
    });
    const id = await submit(c, {
      tags: [
        { key: 'job', value: 'three' },
        { key: 'lane', value: 'fast' },
      ],
    });
    const [claim] = await claimBuildsById(db(), [id], {
      agentId: agent,
      leaseMs: 60_000,
      now: t.clock.now(),
    });
    await startAttempt(db(), claim!.attemptId, agent, 60_000, t.clock.now());
    expect(
      await (
        await t.json('POST', '/builds/cancel', {
          tags: [
            { key: 'job', value: 'three' },
            { key: 'lane', value: 'slow' },
          ],
        })
      ).json(),
    ).toEqual({ canceled: [] });
    const res = await t.json('POST', '/builds/cancel', {
      tags: [
        { key: 'job', value: 'three' },
        { key: 'lane', value: 'fast' },
      ],
    });
    expect(await res.json()).toEqual({ canceled: [id] });
    expect((await show(id)).state).toBe('canceled');
  });

  it('cancels by tag only the unfinished builds', async () => {
    const res = await t.json('POST', '/builds/cancel', { tags: [{ key: 'job', value: 'one' }] });
    expect(await res.json()).toEqual({ canceled: [ids.b] });
    expect((await t.json('POST', '/builds/cancel', { tags: [] })).status).toBe(400);
  });

  it('says a deferred build is deferred', async () => {
    const d = drv('deferred');
    await t.json('POST', '/derivations', {
      derivations: [{ path: d.path, text: encodeDerivationText(d.bytes) }],
    });
    const until = new Date(t.clock.now() + 3_600_000).toISOString();
    const id = await submit(d, { deferUntil: until });
    expect((await why(id)).reasons).toContainEqual({ kind: 'deferred', until });
  });

  it('accepts build UUIDs in upper case', async () => {
    expect(((await (await t.request(`/build/${ids.a!.toUpperCase()}`)).json()) as Build).uuid).toBe(ids.a);
    expect((await why(ids.a!.toUpperCase())).uuid).toBe(ids.a);
  });

  it('answers 404 for unknown builds and 400 for malformed ids', async () => {
    for (const path of [`/build/${ABSENT}`, `/build/${ABSENT}/why`, `/build/${ABSENT}/log`])
      expect((await t.request(path)).status).toBe(404);
    expect((await t.request('/build/not-a-uuid')).status).toBe(400);
    expect((await t.request(`/build/${ids.a}/log`)).status).toBe(404);
  });
});
