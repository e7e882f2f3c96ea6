// CoordinatorClient against a real HTTP server: methods, paths, headers, bodies, error decoding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ProtocolError } from '../errors.js';
import { readBody, sendJson, startRecordingServer } from '../testing/recording-server.js';
import type { RecordingServer } from '../testing/recording-server.js';
import { CoordinatorClient } from './coordinator-client.js';

const U1 = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
const H = '0123456789abcdfghijklmnpqrsvwxyz';
const DRV = `/gnu/store/${H}-hello.drv`;
const T = '2026-11-27T23:17:36.000Z';
const build = {
  uuid: U1,
  derivation: DRV,
  system: 'x86_64-linux',
  priority: 3,
  state: 'queued',
  tags: [],
  createdAt: T,
  deferUntil: null,
  endedAt: null,
  timeoutSeconds: null,
  maxSilentTimeSeconds: null,
  agent: null,
  blockedByFailedDependency: false,
};

let server: RecordingServer;
let client: CoordinatorClient;
beforeAll(async () => {
  server = await startRecordingServer();
  client = new CoordinatorClient({ baseUrl: `${server.url}/`, token: 'secret-token', timeoutMs: 2000 });
});
afterAll(() => server.close());

function last() {
  const r = server.requests.at(-1);
  if (r === undefined) throw new Error('no request recorded');
  return r;
}

describe('CoordinatorClient requests', () => {
  it('submits a build as JSON with the bearer token and validates the answer', async () => {
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      sendJson(res, 200, { uuid: U1, created: true });
    });
    const answer = await client.submitBuild({
      derivation: DRV,
      priority: 3,
      tags: [{ key: 'branch', value: 'main' }],
      ignoreIfBuildForDerivationExists: true,
    });
    expect(answer).toEqual({ uuid: U1, created: true, relatedBuilds: [] });
    const r = last();
    expect([r.method, r.path]).toEqual(['POST', '/builds']);
    expect(r.headers.authorization).toBe('Bearer secret-token');
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(String(r.body))).toEqual({
      derivation: DRV,
      priority: 3,
      tags: [{ key: 'branch', value: 'main' }],
      ignoreIfBuildForDerivationExists: true,
    });
  });

  it('lists builds with repeated query parameters', async () => {
    server.handle((_req, res) => sendJson(res, 200, { builds: [build], nextCursor: 'c2' }));
    const page = await client.listBuilds({
      state: ['queued', 'started'],
      tag: ['a=1', 'b=2'],
      limit: 10,
      blocked: false,
    });
    expect(page.builds[0]?.uuid).toBe(U1);
    const r = last();
    expect([r.method, r.path]).toEqual(['GET', '/builds']);
    expect(r.query.getAll('state')).toEqual(['queued', 'started']);
    expect(r.query.getAll('tag')).toEqual(['a=1', 'b=2']);
    expect(r.query.get('limit')).toBe('10');
    expect(r.query.get('blocked')).toBe('false');
  });

  it('iterates over every page of builds, following the cursor', async () => {
    server.handle((_req, res, rec) => {
      const cursor = rec.query.get('cursor');
      if (cursor === null) sendJson(res, 200, { builds: [build, build], nextCursor: 'p2' });
      else if (cursor === 'p2') sendJson(res, 200, { builds: [build], nextCursor: null });
      else sendJson(res, 400, { error: { code: 'bad-request', message: 'bad cursor' } });
    });
    const before = server.requests.length;
    let n = 0;
    for await (const b of client.iterateBuilds({ state: 'queued' })) n += b.priority === 3 ? 1 : 0;
    expect(n).toBe(3);
    expect(server.requests.slice(before).map((r) => [r.query.get('cursor'), r.query.get('state')])).toEqual([
      [null, 'queued'],
      ['p2', 'queued'],
    ]);
  });

  it('uploads a derivation as its exact bytes, and cancels, reprioritises and revokes on the right paths', async () => {
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      if (rec.path.startsWith('/derivation/')) sendJson(res, 200, { stored: [DRV] });
      else if (rec.path.endsWith('/cancel')) sendJson(res, 200, { canceled: [U1] });
      else if (rec.path.endsWith('/update-priority')) sendJson(res, 200, build);
      else res.writeHead(204).end();
    });
    const bytes = new Uint8Array([0x44, 0x65, 0xff, 0x00, 0x0a]);
    await client.putDerivation(`${H}-hello.drv`, bytes);
    expect([last().method, last().path]).toEqual(['PUT', `/derivation/${H}-hello.drv`]);
    expect(new Uint8Array(last().body!)).toEqual(bytes);
    expect(await client.cancelBuild(U1)).toEqual({ canceled: [U1] });
    expect([last().method, last().path, String(last().body)]).toEqual([
      'POST',
      `/build/${U1}/cancel`,
      '{"ignoreIfFinished":false}',
    ]);
    expect((await client.updatePriority(U1, 3)).priority).toBe(3);
    expect(JSON.parse(String(last().body))).toEqual({ priority: 3 });
    await client.revokeClientToken(U1);
    expect([last().method, last().path]).toEqual(['DELETE', `/client-token/${U1}`]);
  });
});

describe('CoordinatorClient errors', () => {
  it('decodes an error body into ProtocolError with its code', async () => {
    server.handle((_req, res) =>
      sendJson(res, 404, { error: { code: 'not-found', message: `no build ${U1}`, details: { uuid: U1 } } }),
    );
    const err = await client.getBuild(U1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err).toMatchObject({
      code: 'not-found',
      status: 404,
      message: `no build ${U1}`,
      details: { uuid: U1 },
    });
  });

  it('maps a bare status to its code, and an unknown one to invalid-response', async () => {
    server.handle((_req, res) => res.writeHead(503, { 'content-type': 'text/plain' }).end('starting'));
    await expect(client.listAgents()).rejects.toMatchObject({
      code: 'unavailable',
      status: 503,
      message: expect.stringContaining('starting'),
    });
    server.handle((_req, res) => res.writeHead(502).end());
    await expect(client.listAgents()).rejects.toMatchObject({ code: 'invalid-response', status: 502 });
  });

  it('refuses an answer that does not match the protocol', async () => {
    server.handle((_req, res) => sendJson(res, 200, { agents: [{ uuid: 'not-a-uuid' }] }));
    await expect(client.listAgents()).rejects.toMatchObject({
      code: 'invalid-response',
      message: expect.stringContaining('agents.0.uuid'),
    });
    server.handle((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{oops'));
    await expect(client.listAgents()).rejects.toMatchObject({ code: 'invalid-response' });
  });

  it('times out a request that gets no answer', async () => {
    server.handle(() => undefined);
    const slow = new CoordinatorClient({ baseUrl: server.url, timeoutMs: 100 });
    await expect(slow.why(U1)).rejects.toMatchObject({ code: 'timeout', status: 0 });
  });

  it('reports an unreachable coordinator as network-error', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const nowhere = new CoordinatorClient({ baseUrl: `http://127.0.0.1:${port}` });
    await expect(nowhere.listAgents()).rejects.toMatchObject({
      code: 'network-error',
      message: expect.stringContaining('could not be reached'),
    });
  });

  it("passes the caller's abort reason through", async () => {
    server.handle(() => undefined);
    const ac = new AbortController();
    const pending = client.getAgent(U1, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('leaves no listener on a long-lived signal once its calls are answered', async () => {
    server.handle((_req, res) => sendJson(res, 200, { agents: [] }));
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) await client.listAgents({ signal: stop.signal });
    server.handle((_req, res) =>
      sendJson(res, 404, { error: { code: 'not-found', message: 'no such agent' } }),
    );
    await expect(client.getAgent(U1, { signal: stop.signal })).rejects.toMatchObject({ code: 'not-found' });
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });
});
