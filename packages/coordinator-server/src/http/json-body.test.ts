// JSON bodies read straight from the Node request under @hono/node-server
// (real loopback HTTP): parsed and validated like through Hono, limited in
// size with a declared length and with a chunked body, bad JSON a 400.
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRoutes } from '@gbc/protocol';
import { silentLogger } from '../logger.js';
import { createErrorHandler } from './on-error.js';
import { mountRoute } from './validate.js';

const ID = '0b6c1d0e-4b7c-4d3a-9a6e-3f1f5f0e2a11';
let server: ServerType;
let port = 0;

beforeAll(async () => {
  const app = new Hono();
  app.onError(createErrorHandler(silentLogger));
  mountRoute(app, agentRoutes.fetchBuilds, (c, { body }) => c.json({ got: body }), { jsonBodyBytes: 200 });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      port = info.port;
      resolve();
    });
  });
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function post(
  body: string,
  chunked: boolean,
): Promise<{ status: number; json: { got?: unknown; error?: { code?: string } } }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json' };
    if (!chunked) headers['Content-Length'] = Buffer.byteLength(body);
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: `/agent/${ID}/fetch-builds`, headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(Buffer.concat(parts).toString('utf8')) as never,
          }),
        );
      },
    );
    req.on('error', reject);
    if (chunked) {
      // Two writes without a length: sent with Transfer-Encoding: chunked.
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    } else req.end(body);
  });
}

describe.each([false, true])('JSON bodies over HTTP (chunked: %s)', (chunked) => {
  it('parses and validates the body', async () => {
    const r = await post(JSON.stringify({ count: 3, systems: ['x86_64-linux'] }), chunked);
    expect(r.status).toBe(200);
    expect(r.json.got).toMatchObject({ count: 3, systems: ['x86_64-linux'] });
  });

  it('answers 400 to bad JSON and to a body the schema refuses', async () => {
    expect((await post('{"count": 3,', chunked)).status).toBe(400);
    const refused = await post(JSON.stringify({ count: 'three', systems: [] }), chunked);
    expect(refused.status).toBe(400);
    expect(refused.json.error?.code).toBe('bad-request');
  });

  it('answers 413 to a body over the limit', async () => {
    const r = await post(
      JSON.stringify({ count: 1, systems: Array.from({ length: 40 }, (_, i) => `system-${i}`) }),
      chunked,
    );
    expect(r.status).toBe(413);
    expect(r.json.error?.code).toBe('payload-too-large');
  });
});
