// The event iterator resumes with Last-Event-ID after the server drops the connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSseMessage } from './sse.js';
import { sendJson, startRecordingServer } from '../testing/recording-server.js';
import type { RecordingServer } from '../testing/recording-server.js';
import { CoordinatorClient } from './coordinator-client.js';
import type { GbcEvent } from '../schemas/events.js';

const BUILD = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
const T = '2026-11-27T23:17:36.000Z';
const event = (id: number): GbcEvent => ({
  id: String(id),
  type: 'build-started',
  time: T,
  build: BUILD,
  data: {},
});
const sse = (id: number) =>
  formatSseMessage({ id: String(id), event: 'build-started', data: JSON.stringify(event(id)) });

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(() => server.close());

describe('CoordinatorClient.events', () => {
  it('reconnects after a dropped connection and resumes from the last event id', async () => {
    server.handle((req, res) => {
      const after = Number(req.headers['last-event-id'] ?? '0');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\n');
      // Two events per connection, then the connection is cut without an ending.
      res.write(sse(after + 1) + sse(after + 2), () => res.destroy());
    });
    const client = new CoordinatorClient({ baseUrl: server.url, token: 'tok' });
    const before = server.requests.length;
    const reconnects: (string | undefined)[] = [];
    const got: string[] = [];
    for await (const e of client.events({
      query: { type: ['build-started'], build: BUILD },
      reconnectDelayMs: 1,
      onReconnect: (id) => reconnects.push(id),
    })) {
      got.push(e.id);
      if (got.length === 5) break;
    }
    expect(got).toEqual(['1', '2', '3', '4', '5']);
    const reqs = server.requests.slice(before);
    expect(reqs.map((r) => r.headers['last-event-id'])).toEqual([undefined, '2', '4']);
    expect(reconnects).toEqual(['2', '4']);
    expect(reqs[0]?.headers.accept).toBe('text/event-stream');
    expect(reqs[0]?.headers.authorization).toBe('Bearer tok');
    expect(reqs[0]?.query.get('type')).toBe('build-started');
    expect(reqs[0]?.query.get('build')).toBe(BUILD);
  });

  it('starts from a given Last-Event-ID and retries after a 503', async () => {
    let calls = 0;
    server.handle((_req, res) => {
      calls += 1;
      if (calls === 1) return sendJson(res, 503, { error: { code: 'unavailable', message: 'starting' } });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(sse(42));
    });
    const client = new CoordinatorClient({ baseUrl: server.url });
    const before = server.requests.length;
    const it = client.events({ lastEventId: '41', reconnectDelayMs: 1 });
    const first = await it.next();
    await it.return(undefined);
    expect(first.value).toMatchObject({ id: '42', type: 'build-started' });
    expect(server.requests.slice(before).map((r) => r.headers['last-event-id'])).toEqual(['41', '41']);
  });

  it('ends with the ProtocolError of a 4xx instead of retrying', async () => {
    server.handle((_req, res) =>
      sendJson(res, 401, { error: { code: 'unauthorized', message: 'token required' } }),
    );
    const client = new CoordinatorClient({ baseUrl: server.url });
    const before = server.requests.length;
    await expect(client.events({ reconnectDelayMs: 1 }).next()).rejects.toMatchObject({
      code: 'unauthorized',
      status: 401,
    });
    expect(server.requests.length - before).toBe(1);
  });

  it('gives up after maxConsecutiveFailures connections that bring nothing', async () => {
    server.handle((_req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end());
    const client = new CoordinatorClient({ baseUrl: server.url });
    const before = server.requests.length;
    await expect(
      client.events({ reconnectDelayMs: 1, maxConsecutiveFailures: 3 }).next(),
    ).rejects.toMatchObject({ code: 'network-error' });
    expect(server.requests.length - before).toBe(3);
  });

  it('stops quietly when the caller aborts', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse(1));
    });
    const ac = new AbortController();
    const client = new CoordinatorClient({ baseUrl: server.url });
    const got: string[] = [];
    for await (const e of client.events({ signal: ac.signal })) {
      got.push(e.id);
      ac.abort();
    }
    expect(got).toEqual(['1']);
  });
});
