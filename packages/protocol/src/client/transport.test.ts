import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { readAll, sendRequest } from './transport.js';

let server: Server | undefined;

afterEach(async () => {
  const s = server;
  server = undefined;
  if (s === undefined) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

/** Serves `handler`; a handler that fails cuts the connection, so the client sees the failure. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<string> {
  server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => res.destroy(error instanceof Error ? error : undefined));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  return (await readAll(req)).toString();
}

describe('sendRequest', () => {
  it('sends again on a fresh socket when a kept-alive one was closed before answering', async () => {
    const seen: string[] = [];
    const perSocket = new WeakMap<object, number>();
    const url = await serve(async (req, res) => {
      const body = await bodyOf(req);
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      seen.push(`${n}:${body}`);
      // The second request on a socket meets a server that has just closed it.
      if (n === 2) req.socket.destroy();
      else res.end(`ok ${body}`);
    });
    const call = async (body: string) =>
      (await readAll((await sendRequest(url, { method: 'POST', headers: {}, body })).body)).toString();
    expect(await call('a')).toBe('ok a');
    expect(await call('b')).toBe('ok b');
    expect(seen).toEqual(['1:a', '2:b', '1:b']);
  });

  it("does not send a streamed body twice: the closed socket is the caller's error", async () => {
    const perSocket = new WeakMap<object, number>();
    const url = await serve(async (req, res) => {
      await bodyOf(req);
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n === 2) req.socket.destroy();
      else res.end('ok');
    });
    await readAll((await sendRequest(url, { method: 'POST', headers: {}, body: 'first' })).body);
    async function* stream() {
      yield new TextEncoder().encode('once');
    }
    await expect(sendRequest(url, { method: 'POST', headers: {}, body: stream() })).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
  });

  it('streams a body chunked and decodes a gzip answer', async () => {
    const url = await serve(async (req, res) => {
      const body = await bodyOf(req);
      res.setHeader('content-encoding', 'gzip');
      res.end(gzipSync(`${req.headers['transfer-encoding']} ${body}`));
    });
    async function* stream() {
      yield new TextEncoder().encode('one ');
      yield new TextEncoder().encode('two');
    }
    const answer = await sendRequest(url, { method: 'PUT', headers: {}, body: stream() });
    expect(answer.headers.get('content-encoding')).toBe('gzip');
    expect((await readAll(answer.body)).toString()).toBe('chunked one two');
  });

  it("rejects with the body's own error when the stream fails before any answer", async () => {
    const url = await serve(async (req, res) => {
      await bodyOf(req).catch(() => undefined);
      res.end();
    });
    async function* failing() {
      yield new TextEncoder().encode('part');
      throw new Error('the disk went away');
    }
    await expect(sendRequest(url, { method: 'PUT', headers: {}, body: failing() })).rejects.toThrow(
      'the disk went away',
    );
  });

  it('refuses a URL that is not http or https', async () => {
    await expect(sendRequest('ftp://example.org/x', { method: 'GET', headers: {} })).rejects.toThrow(
      /unsupported URL scheme ftp:/,
    );
  });
});
