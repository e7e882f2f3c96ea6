// fetch-builds' fast path (fetch-builds-listener.ts) over real HTTP: it hands
// out each build once however many agents call at once, and it answers every
// request the way the Hono route does (the same request sent to both: same
// status, same body, the same auth headers), including hostile ones.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildsResponseSchema } from '@gbc/protocol';
import type { Coordinator } from '../coordinator/create-coordinator.js';
import type { Listening } from '../coordinator/listen.js';
import {
  createManualClock,
  fakeDrv,
  makeAgent,
  startListening,
  submit,
  type ListeningCoordinator,
} from './test-support.js';

const JSON_BODY_BYTES = 4096;

/** What an answer says: status, the headers the route sets, the body. */
interface Answer {
  status: number;
  type: string | null;
  authenticate: string | null;
  body: unknown;
}

async function answerOf(r: Response): Promise<Answer> {
  const text = await r.text();
  return {
    status: r.status,
    type: r.headers.get('content-type'),
    authenticate: r.headers.get('www-authenticate'),
    body: text === '' ? null : (JSON.parse(text) as unknown),
  };
}

describe.each(['sqlite', 'postgres'] as const)('fetch-builds fast path on %s', (dialect) => {
  let served: ListeningCoordinator;
  let c: Coordinator;
  let listening: Listening;
  beforeAll(
    async () =>
      ({ c, listening } = served =
        await startListening(dialect, { jsonBodyBytes: JSON_BODY_BYTES, clock: createManualClock() })),
  );
  afterAll(() => served.close());

  const overHttp = (path: string, auth: string | undefined, body: string, headers = {}) =>
    fetch(`${listening.agentUrl}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(auth === undefined ? {} : { Authorization: auth }),
        ...headers,
      },
      body,
    }).then(answerOf);
  const throughHono = (path: string, auth: string | undefined, body: string) =>
    Promise.resolve(
      c.agentApp.request(path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(auth === undefined ? {} : { Authorization: auth }),
        },
        body,
      }),
    ).then(answerOf);

  it('hands out every build exactly once to agents calling at once', async () => {
    const drvs = Array.from({ length: 40 }, (_, i) => fakeDrv(`once-${i}`));
    const ids = await submit(
      c,
      drvs,
      drvs.map((d) => ({ derivationPath: d.path })),
    );
    const agents = await Promise.all(Array.from({ length: 8 }, (_, i) => makeAgent(c, `once-${i}`)));
    const got: string[] = [];
    await Promise.all(
      agents.map(async (a) => {
        for (;;) {
          const r = await overHttp(
            `/agent/${a.id}/fetch-builds`,
            a.auth,
            JSON.stringify({ count: 3, systems: ['x86_64-linux'] }),
          );
          expect(r.status).toBe(200);
          expect(r.type).toBe('application/json');
          const { builds } = fetchBuildsResponseSchema.parse(r.body);
          if (builds.length === 0) return;
          got.push(...builds.map((b) => b.uuid));
        }
      }),
    );
    expect(got.length).toBe(ids.length);
    expect([...got].sort()).toEqual([...ids].sort());
  });

  it('answers an allocation as the route does', async () => {
    const drvs = [fakeDrv('same-a'), fakeDrv('same-b')];
    await submit(
      c,
      drvs,
      drvs.map((d) => ({ derivationPath: d.path, priority: 3, tags: [{ key: 'k', value: 'v' }] })),
    );
    const a = await makeAgent(c, 'same');
    const body = JSON.stringify({ count: 1, systems: ['x86_64-linux'] });
    const fast = await overHttp(`/agent/${a.id}/fetch-builds`, a.auth, body);
    const hono = await throughHono(`/agent/${a.id}/fetch-builds`, a.auth, body);
    const shape = (x: Answer) => ({
      ...x,
      body: fetchBuildsResponseSchema
        .parse(x.body)
        .builds.map((b) => ({ ...b, uuid: '', attempt: '', derivation: '' })),
    });
    expect(shape(fast)).toEqual(shape(hono));
    expect(shape(fast).body).toHaveLength(1);
  });

  it('refuses what the route refuses, with the same status, headers and body', async () => {
    const a = await makeAgent(c, 'refused');
    const other = await makeAgent(c, 'other');
    const wrong = `Basic ${Buffer.from(`${a.id}:not-the-password`).toString('base64')}`;
    const notUuid = `Basic ${Buffer.from('someone:pw').toString('base64')}`;
    const ok = JSON.stringify({ count: 1, systems: ['x86_64-linux'] });
    const cases: [string, string | undefined, string][] = [
      [`/agent/${a.id}/fetch-builds`, undefined, ok],
      [`/agent/${a.id}/fetch-builds`, 'Bearer x', ok],
      [`/agent/${a.id}/fetch-builds`, wrong, ok],
      [`/agent/${a.id}/fetch-builds`, notUuid, ok],
      [`/agent/${other.id}/fetch-builds`, a.auth, ok],
      [`/agent/${a.id}/fetch-builds`, a.auth, '{"count":'],
      [`/agent/${a.id}/fetch-builds`, a.auth, JSON.stringify({ count: 0, systems: ['x86_64-linux'] })],
      [`/agent/${a.id}/fetch-builds`, a.auth, JSON.stringify({ count: 1, systems: [] })],
      [`/agent/${a.id}/fetch-builds`, a.auth, JSON.stringify({ count: 1, systems: ['x'], closures: 'all' })],
      [`/agent/${'0'.repeat(36)}/fetch-builds`, a.auth, ok],
      [
        `/agent/${a.id}/fetch-builds`,
        a.auth,
        JSON.stringify({ count: 1, systems: ['x'], pad: 'y'.repeat(JSON_BODY_BYTES) }),
      ],
    ];
    for (const [path, auth, body] of cases) {
      const fast = await overHttp(path, auth, body);
      const hono = await throughHono(path, auth, body);
      // The request beside the answers, so that a difference names its case.
      const sent = { path, auth, body: body.slice(0, 60) };
      expect({ sent, fast }).toEqual({ sent, fast: hono });
      expect(fast.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('stops reading a body past the limit, declared or streamed, and closes a declared one', async () => {
    const a = await makeAgent(c, 'large');
    const url = new URL(`${listening.agentUrl}/agent/${a.id}/fetch-builds`);
    const send = (headers: Record<string, string | number>, chunks: string[]) =>
      new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
        const req = httpRequest(
          url,
          { method: 'POST', headers: { Authorization: a.auth, ...headers } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () =>
              resolve({ status: res.statusCode!, connection: res.headers.connection, body }),
            );
          },
        );
        req.on('error', reject);
        for (const chunk of chunks) req.write(chunk);
        req.end();
      });
    // A length far beyond the limit is refused before a byte of the body is read.
    const declared = await send(
      { 'Content-Length': 10 * 1024 * 1024 * 1024, 'Content-Type': 'application/json' },
      [],
    ).catch((error: unknown) => ({ status: -1, connection: undefined, body: String(error) }));
    expect(declared.status).toBe(413);
    expect(declared.connection).toBe('close');
    // Chunked, no length: refused once the bytes read pass the limit.
    const streamed = await send(
      { 'Content-Type': 'application/json' },
      Array.from({ length: 8 }, () => 'x'.repeat(1024)),
    );
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body)).toMatchObject({ error: { code: 'payload-too-large' } });
  });

  it('leaves other shapes of the path to Hono, and counts its calls in the metrics', async () => {
    const a = await makeAgent(c, 'shapes');
    const ok = JSON.stringify({ count: 1, systems: ['x86_64-linux'] });
    expect((await overHttp(`/agent/${a.id}/fetch-builds?x=1`, a.auth, ok)).status).toBe(200);
    expect((await overHttp(`/agent/${a.id}/fetch-builds/`, a.auth, ok)).status).toBe(404);
    const metrics = await (await fetch(`${listening.agentUrl}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find(
        (l) =>
          l.startsWith('gbc_http_request_duration_seconds_count') &&
          l.includes('route="/agent/:uuid/fetch-builds"') &&
          l.includes('status="200"'),
      );
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').pop())).toBeGreaterThan(1);
  });
});
