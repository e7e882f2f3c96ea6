// Long uploads over real HTTP (issue 19, item 7): Node cut every request not
// received within 5 minutes with a bare 408, a build's live log included.
// With short timeouts (the defaults are 60 s for headers and 120 s of body
// idleness), a log body that trickles in for many times the headers bound
// but never idles past the idle bound is stored whole; one that stalls is
// refused with a JSON 408 request-timeout and can be resumed; headers that
// never end are still cut, and an idle keep-alive connection is still closed.
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator } from './create-coordinator.js';
import { listen } from './listen.js';
import type { Listening } from './listen.js';
import { call, createTestPlace, fakeDrv, makeAgent, startOn, submit } from '../agent-api/test-support.js';
import type { TestPlace } from '../agent-api/test-support.js';

const HEADERS_MS = 200;
const BODY_IDLE_MS = 1_500;

describe('request timeouts of a listening coordinator', () => {
  let place: TestPlace;
  let c: Coordinator;
  let listening: Listening;
  let agent: Awaited<ReturnType<typeof makeAgent>>;
  let build = '';
  beforeAll(async () => {
    place = createTestPlace('sqlite');
    c = await startOn(place);
    agent = await makeAgent(c, 'slow-uploader');
    const drv = fakeDrv('slow-log');
    [build] = (await submit(c, [drv], [{ derivationPath: drv.path }])) as [string];
    expect(
      (
        await call(c, 'POST', `/agent/${agent.id}/fetch-builds`, agent.auth, {
          count: 1,
          systems: ['x86_64-linux'],
        })
      ).status,
    ).toBe(200);
    listening = await listen(c, {
      agentUrl: 'http://127.0.0.1:0',
      clientUrl: 'http://127.0.0.1:0',
      timeouts: { headersMs: HEADERS_MS, bodyIdleMs: BODY_IDLE_MS },
    });
  });
  afterAll(async () => {
    await listening.close();
    await c.stop();
    place.remove();
  });

  /** PUTs a log body written by `write` (chunked); resolves to the status and body of the answer. */
  const putLog = (
    query: string,
    write: (body: (chunk: string) => void, end: () => void) => void,
  ): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const url = new URL(`${listening.agentUrl}/build/${build}/log${query}`);
      const req = request(
        url,
        { method: 'PUT', headers: { Authorization: agent.auth, 'Content-Type': 'text/plain' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.flushHeaders();
      write(
        (chunk) => req.write(chunk),
        () => req.end(),
      );
    });
  const progress = async (): Promise<number> =>
    (
      (await (await call(c, 'GET', `/build/${build}/log-progress`, agent.auth)).json()) as {
        bytesReceived: number;
      }
    ).bytesReceived;

  it('stores a body that trickles in for many times the headers bound, never idle for long', async () => {
    const lines = Array.from({ length: 16 }, (_, i) => `line ${i}\n`);
    const answer = await putLog('?offset=0', (write, end) => {
      let i = 0;
      const next = (): void => {
        if (i === lines.length) return end();
        write(lines[i++]!);
        setTimeout(next, HEADERS_MS / 2);
      };
      next();
    });
    expect(answer.status).toBe(204);
    expect(await progress()).toBe(lines.join('').length);
  });

  it('refuses a body that stalls with a JSON 408 request-timeout, and the upload resumes where it stopped', async () => {
    const held = await progress();
    let stalled: (() => void) | undefined;
    const answer = await putLog(`?offset=${held}`, (write, end) => {
      write('partial\n');
      stalled = end;
    });
    stalled?.();
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'request-timeout' } });
    // The bytes that came are kept; the coordinator may still be closing the broken request (503, retry).
    for (;;) {
      const resumed = await putLog(`?offset=${await progress()}`, (write, end) => {
        write('rest\n');
        end();
      });
      if (resumed.status === 204) break;
      expect([503, 416]).toContain(resumed.status);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await progress()).toBe(held + 'partial\nrest\n'.length);
  });

  it('still cuts a request whose headers never end', async () => {
    const socket = connect(listening.agentPort, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.write(`PUT /build/${build}/log HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('still closes a keep-alive connection left idle after its answer', async () => {
    const socket = connect(listening.agentPort, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    socket.write('GET /nix-cache-info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 200 /);
    expect(received).toContain('Keep-Alive');
  });
});
