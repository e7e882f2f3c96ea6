// Agent administration, dynamic-auth tokens, the OpenAPI document and the live
// event stream (resumable with Last-Event-ID, keep-alive comments) through
// app.request() with a real coordinator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAgentPassword, verifyDynamicAuthToken } from '@gbc/datastore';
import { parseSse } from '@gbc/protocol';
import type { Agent, AgentDetail, GbcEvent } from '@gbc/protocol';
import { DIALECTS, startTestCoordinator } from './test-support.js';
import type { TestCoordinator } from './test-support.js';

const ABSENT = '00000000-0000-4000-8000-00000000abcd';

/** Reads SSE messages from a response until `count` arrived, then closes the stream. */
async function readEvents(res: Response, count: number): Promise<GbcEvent[]> {
  const out: GbcEvent[] = [];
  // Node types a Response body as ReadableStream<any>; it carries bytes.
  const body = res.body! as ReadableStream<Uint8Array>;
  const chunks = async function* () {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      await reader.cancel();
    }
  };
  for await (const m of parseSse(chunks())) {
    out.push(JSON.parse(m.data) as GbcEvent);
    if (out.length >= count) break;
  }
  return out;
}

describe.each(DIALECTS)('client agent and event routes on %s', (dialect) => {
  let t: TestCoordinator;
  let agent: Agent;
  let password: string;
  beforeAll(async () => {
    t = await startTestCoordinator(dialect);
  });
  // undefined when beforeAll failed before the coordinator started
  afterAll(async () => (t as TestCoordinator | undefined)?.close());

  it('creates an agent with a first password, refuses a duplicate name and bad bodies', async () => {
    const res = await t.json('POST', '/agents', {
      name: 'alpha',
      description: 'first',
      tags: [{ key: 'arch', value: 'x86' }],
    });
    expect(res.status).toBe(201);
    ({ agent, password } = (await res.json()) as { agent: Agent; password: string });
    expect(agent).toMatchObject({
      name: 'alpha',
      description: 'first',
      active: true,
      tags: [{ key: 'arch', value: 'x86' }],
      systems: [],
      status: null,
    });
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(await verifyAgentPassword(t.coordinator.context.datastore.db, agent.uuid, password)).toBe(true);
    expect((await t.json('POST', '/agents', { name: 'alpha' })).status).toBe(409);
    expect((await t.json('POST', '/agents', { name: '' })).status).toBe(400);
    const bare = await t.json('POST', '/agents', { name: 'beta', withPassword: false });
    expect(((await bare.json()) as { password: string | null }).password).toBeNull();
  });

  it('lists and shows agents, 404 for unknown ones', async () => {
    const list = (await (await t.request('/agents')).json()) as { agents: Agent[] };
    expect(list.agents.map((a) => a.name)).toEqual(['alpha', 'beta']);
    const detail = (await (await t.request(`/agent/${agent.uuid}`)).json()) as AgentDetail;
    expect(detail).toMatchObject({ uuid: agent.uuid, allocatedBuilds: [], startedBuilds: [] });
    expect((await t.request(`/agent/${ABSENT}`)).status).toBe(404);
    expect((await t.request('/agent/nope')).status).toBe(400);
  });

  it('issues new passwords; earlier ones stay valid', async () => {
    const res = await t.json('POST', `/agent/${agent.uuid}/passwords`);
    expect(res.status).toBe(201);
    const second = ((await res.json()) as { password: string }).password;
    expect(second).not.toBe(password);
    const db = t.coordinator.context.datastore.db;
    expect(await verifyAgentPassword(db, agent.uuid, second)).toBe(true);
    expect(await verifyAgentPassword(db, agent.uuid, password)).toBe(true);
    expect((await t.json('POST', `/agent/${ABSENT}/passwords`)).status).toBe(404);
  });

  it('replaces tags and activates or deactivates', async () => {
    const tags = await t.json('PUT', `/agent/${agent.uuid}/tags`, { tags: [{ key: 'lane', value: 'fast' }] });
    expect(((await tags.json()) as Agent).tags).toEqual([{ key: 'lane', value: 'fast' }]);
    expect((await t.json('PUT', `/agent/${agent.uuid}/tags`, { tags: 'x' })).status).toBe(400);
    expect((await t.json('PUT', `/agent/${ABSENT}/tags`, { tags: [] })).status).toBe(404);
    expect(((await (await t.json('POST', `/agent/${agent.uuid}/deactivate`)).json()) as Agent).active).toBe(
      false,
    );
    expect(await verifyAgentPassword(t.coordinator.context.datastore.db, agent.uuid, password)).toBe(false);
    expect(((await (await t.json('POST', `/agent/${agent.uuid}/activate`)).json()) as Agent).active).toBe(
      true,
    );
    expect((await t.json('POST', `/agent/${ABSENT}/activate`)).status).toBe(404);
  });

  it('creates dynamic-auth tokens agents can use', async () => {
    const res = await t.json('POST', '/dynamic-auth-tokens');
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    expect(await verifyDynamicAuthToken(t.coordinator.context.datastore.db, token)).toBe(true);
  });

  it('serves its OpenAPI document, client tokens and retention', async () => {
    const doc = (await (await t.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toMatch(/^3\.1/);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/builds', '/build/{uuid}/why', '/events']),
    );
    expect(await (await t.request('/client-tokens')).json()).toEqual({ tokens: [] });
    expect((await t.json('POST', '/retention/run', { dryRun: true })).status).toBe(200);
  });

  it('streams live events, resumes after Last-Event-ID and filters by type', async () => {
    const from = t.coordinator.context.events.lastId();
    await t.json('POST', '/agents', { name: 'gamma' });
    await t.json('POST', `/agent/${agent.uuid}/deactivate`);
    await t.json('POST', `/agent/${agent.uuid}/activate`);
    const res = await t.request('/events', { headers: { 'Last-Event-ID': from } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = await readEvents(res, 3);
    expect(events.map((e) => e.type)).toEqual(['agent-created', 'agent-deactivated', 'agent-activated']);
    expect(events.map((e) => Number(e.id))).toEqual([Number(from) + 1, Number(from) + 2, Number(from) + 3]);
    const filtered = await t.request(`/events?type=agent-activated&agent=${agent.uuid}`, {
      headers: { 'Last-Event-ID': from },
    });
    expect((await readEvents(filtered, 1)).map((e) => e.type)).toEqual(['agent-activated']);
    expect((await t.request('/events', { headers: { 'Last-Event-ID': 'abc' } })).status).toBe(400);
    expect((await t.request('/events?type=nonsense')).status).toBe(400);
  });

  it('delivers new events to a connected client and sends keep-alive comments', async () => {
    const res = await t.request('/events');
    const reader = (res.body! as ReadableStream<Uint8Array>).getReader();
    let text = '';
    await t.json('POST', '/agents', { name: 'delta' });
    while (!(text.includes('event: agent-created') && text.includes(': keep-alive'))) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('"name":"delta"');
    expect(text).toContain(': keep-alive');
  });
});
