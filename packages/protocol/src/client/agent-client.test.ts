// AgentClient against a real HTTP server: auth, dynamic sessions, streaming uploads, cache reads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readBody, sendJson, startRecordingServer } from '../testing/recording-server.js';
import type { RecordingServer } from '../testing/recording-server.js';
import { parseUploadHeaders } from '../schemas/uploads.js';
import { AgentClient } from './agent-client.js';

const AGENT = '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
const BUILD = '6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
const H = '0123456789abcdfghijklmnpqrsvwxyz';
const OUT = `/nix/store/${H}-hello`;
const NAR_HASH = `sha256:${'1'.repeat(52)}`;
const PASSWORD = 'p'.repeat(32);
const T = '2026-11-27T23:17:36.000Z';
const statusAnswer = {
  canceledBuilds: [BUILD],
  unknownBuilds: [],
  leaseSeconds: 60,
  serverTime: T,
  active: true,
};

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(() => server.close());

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

describe('AgentClient', () => {
  it('reports status with Basic auth on its own path and learns which builds were canceled', async () => {
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      sendJson(res, 200, statusAnswer);
    });
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { agent: AGENT, password: PASSWORD },
    });
    const answer = await client.reportStatus({ load1: 0.5, freeDiskBytes: 1000, builds: [BUILD] });
    expect(answer.canceledBuilds).toEqual([BUILD]);
    const r = server.requests.at(-1)!;
    expect([r.method, r.path, r.headers.authorization]).toEqual([
      'PUT',
      `/agent/${AGENT}/status`,
      basic(AGENT, PASSWORD),
    ]);
    expect(JSON.parse(String(r.body))).toEqual({ load1: 0.5, freeDiskBytes: 1000, builds: [BUILD] });
  });

  it('opens one dynamic-auth session for concurrent calls, then uses its credentials', async () => {
    const before = server.requests.length;
    server.handle(async (req, res, rec) => {
      const body = await readBody(req, rec);
      if (rec.path === '/agent/session') {
        expect(JSON.parse(String(body))).toEqual({ name: 'builder-1', token: 't'.repeat(32) });
        sendJson(res, 200, { agent: AGENT, password: PASSWORD, created: true });
      } else if (rec.path.endsWith('/fetch-builds')) sendJson(res, 200, { builds: [] });
      else sendJson(res, 200, statusAnswer);
    });
    const sessions: string[] = [];
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { name: 'builder-1', token: 't'.repeat(32) },
      onSession: (s) => void sessions.push(s.agent),
    });
    await Promise.all([
      client.fetchBuilds({ count: 2, systems: ['x86_64-linux'] }),
      client.reportStatus({ load1: 0, builds: [] }),
    ]);
    const mine = server.requests.slice(before);
    expect(mine.filter((r) => r.path === '/agent/session')).toHaveLength(1);
    expect(mine[0]?.headers.authorization).toBeUndefined();
    expect(mine.slice(1).map((r) => r.headers.authorization)).toEqual([
      basic(AGENT, PASSWORD),
      basic(AGENT, PASSWORD),
    ]);
    expect(mine.map((r) => r.path).sort()).toEqual(
      ['/agent/session', `/agent/${AGENT}/fetch-builds`, `/agent/${AGENT}/status`].sort(),
    );
    expect(sessions).toEqual([AGENT]);
    expect(await client.agentId()).toBe(AGENT);
  });

  it('streams an output upload: the server has the first chunk before the second is produced', async () => {
    let firstChunkArrived!: () => void;
    const arrived = new Promise<void>((resolve) => (firstChunkArrived = resolve));
    server.handle(async (req, res, rec) => {
      const parts: Buffer[] = [];
      for await (const chunk of req) {
        parts.push(chunk as Buffer);
        firstChunkArrived();
      }
      rec.body = Buffer.concat(parts);
      sendJson(res, 200, {
        path: OUT,
        narHash: NAR_HASH,
        narSize: 3,
        compression: 'zstd',
        fileSize: rec.body.length,
      });
    });
    let producedSecond = false;
    async function* producer() {
      yield new Uint8Array([1, 2, 3]);
      await arrived; // deadlocks (and the test fails) if the client buffers the whole body first
      producedSecond = true;
      yield new Uint8Array([4, 5]);
    }
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { agent: AGENT, password: PASSWORD },
    });
    const stored = await client.uploadOutput(
      BUILD,
      'out',
      {
        compression: 'zstd',
        narHash: NAR_HASH,
        narSize: 3,
        references: [`${H}-hello`],
        deriver: `${H}-hello.drv`,
      },
      producer(),
      { offset: 7 },
    );
    expect(producedSecond).toBe(true);
    expect(stored.fileSize).toBe(5);
    const r = server.requests.at(-1)!;
    expect([r.method, r.path, r.query.get('offset')]).toEqual(['PUT', `/build/${BUILD}/output/out`, '7']);
    expect(new Uint8Array(r.body!)).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
    expect(r.headers['content-type']).toBe('application/x-nix-nar');
    const meta = parseUploadHeaders((n) => r.headers[n] as string | undefined);
    expect(meta.success && meta.data).toEqual({
      compression: 'zstd',
      narHash: NAR_HASH,
      narSize: 3,
      references: [`${H}-hello`],
      deriver: `${H}-hello.drv`,
    });
  }, 10_000);

  it('uploads a log from a Node Readable and reports results and setup failures', async () => {
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      res.writeHead(204).end();
    });
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { agent: AGENT, password: PASSWORD },
    });
    await client.uploadLog(BUILD, Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]));
    expect([server.requests.at(-1)!.path, String(server.requests.at(-1)!.body)]).toEqual([
      `/build/${BUILD}/log`,
      'line 1\nline 2\n',
    ]);
    expect(server.requests.at(-1)!.query.has('offset')).toBe(false);
    // Offset 0 is sent: it says where the body starts, unlike no offset (append).
    await client.uploadLog(BUILD, new Uint8Array([0x61]), { offset: 0 });
    expect([server.requests.at(-1)!.path, server.requests.at(-1)!.query.get('offset')]).toEqual([
      `/build/${BUILD}/log`,
      '0',
    ]);
    await client.reportSetupFailure(BUILD, [OUT]);
    expect(JSON.parse(String(server.requests.at(-1)!.body))).toEqual({
      reason: 'missing-inputs',
      missingInputs: [OUT],
    });
    await client.reportResult(BUILD, { result: 'timeout', limit: 'max-silent-time' });
    expect([server.requests.at(-1)!.path, String(server.requests.at(-1)!.body)]).toEqual([
      `/build/${BUILD}/report-result`,
      '{"result":"timeout","limit":"max-silent-time"}',
    ]);
    await client.reportBuildStart(BUILD);
    expect([server.requests.at(-1)!.method, server.requests.at(-1)!.path]).toEqual([
      'POST',
      `/build/${BUILD}/report-build-start`,
    ]);
  });

  it("decodes refusals: another agent's build is forbidden, a wrong hash is hash-mismatch", async () => {
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { agent: AGENT, password: PASSWORD },
    });
    server.handle((_req, res) =>
      sendJson(res, 403, { error: { code: 'forbidden', message: 'build held by another agent' } }),
    );
    await expect(client.reportBuildStart(BUILD)).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      sendJson(res, 400, { error: { code: 'hash-mismatch', message: 'NAR hash differs' } });
    });
    await expect(
      client.uploadOutput(
        BUILD,
        'out',
        { narHash: NAR_HASH, narSize: 1, references: [] },
        new Uint8Array([9]),
      ),
    ).rejects.toMatchObject({ code: 'hash-mismatch' });
  });

  it('reads the cache: narinfo (null when absent) and NARs by their narinfo URL', async () => {
    server.handle((req, res, rec) => {
      if (rec.path === `/${H}.narinfo`)
        res.writeHead(200, { 'content-type': 'text/x-nix-narinfo' }).end(`StorePath: ${OUT}\n`);
      else if (rec.path === `/nar/zstd/${H}-hello`) res.writeHead(200).end(Buffer.from([7, 8, 9]));
      else sendJson(res, 404, { error: { code: 'not-found', message: 'no' } });
      req.resume();
    });
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { agent: AGENT, password: PASSWORD },
    });
    expect(await client.narinfo(H)).toBe(`StorePath: ${OUT}\n`);
    expect(await client.narinfo('1'.repeat(32))).toBeNull();
    const body = await new Response(await client.nar(`nar/zstd/${H}-hello`)).arrayBuffer();
    expect(new Uint8Array(body)).toEqual(new Uint8Array([7, 8, 9]));
    await expect(client.nar('../etc/passwd')).rejects.toMatchObject({ code: 'bad-request' });
  });

  it('reads the cache from its own base URL when given one', async () => {
    const cache = await startRecordingServer();
    try {
      cache.handle((_req, res) => res.writeHead(200).end('StorePath: x\n'));
      server.handle((_req, res) =>
        sendJson(res, 404, { error: { code: 'not-found', message: 'wrong port' } }),
      );
      const client = new AgentClient({
        baseUrl: server.url,
        cacheBaseUrl: cache.url,
        credentials: { agent: AGENT, password: PASSWORD },
      });
      expect(await client.narinfo(H)).toBe('StorePath: x\n');
      expect(cache.requests.map((r) => r.path)).toEqual([`/${H}.narinfo`]);
    } finally {
      await cache.close();
    }
  });
});

describe('AgentClient with a dynamic-auth token', () => {
  it('opens a new session when the coordinator no longer accepts the old password, and retries once', async () => {
    let sessions = 0;
    const passwords = ['a'.repeat(32), 'b'.repeat(32)];
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      if (rec.path === '/agent/session') {
        sendJson(res, 200, { agent: AGENT, password: passwords[sessions++ % 2], created: sessions === 1 });
      } else if (rec.headers.authorization === basic(AGENT, passwords[1]!)) sendJson(res, 200, statusAnswer);
      else sendJson(res, 401, { error: { code: 'unauthorized', message: 'unknown password' } });
    });
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { name: 'b', token: 't'.repeat(32) },
    });
    const answer = await client.reportStatus({ load1: 0, builds: [] });
    expect(answer.leaseSeconds).toBe(60);
    expect(sessions).toBe(2);
  });

  it('does not retry a streamed upload, whose body can only be read once', async () => {
    let sessions = 0;
    server.handle(async (req, res, rec) => {
      await readBody(req, rec);
      if (rec.path === '/agent/session')
        sendJson(res, 200, { agent: AGENT, password: PASSWORD, created: ++sessions === 1 });
      else sendJson(res, 401, { error: { code: 'unauthorized', message: 'no' } });
    });
    const client = new AgentClient({
      baseUrl: server.url,
      credentials: { name: 'b', token: 't'.repeat(32) },
    });
    const before = server.requests.length;
    await expect(client.uploadLog(BUILD, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'unauthorized',
    });
    expect(server.requests.slice(before).map((r) => r.path)).toEqual([
      '/agent/session',
      `/build/${BUILD}/log`,
    ]);
    await client.reportBuildStart(BUILD).catch(() => undefined);
    expect(sessions).toBe(3);
  });
});
