// The binary cache over real HTTP, through the listeners a coordinator opens
// (its fast path first): conditional requests (ETag, Last-Modified, 304),
// HEAD, Cache-Control of answers and misses, byte ranges (206, 416, suffix,
// If-Range) and hostile requests: malformed or huge Range and If-None-Match
// headers, many ranges, ranges past the end, path tricks. Requests are sent
// with node:http so that headers and paths go out exactly as written.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretKey, parseNarInfo } from '@gbc/store';
import { hashPart, startListening, type ListeningCoordinator } from '../agent-api/test-support.js';
import { storeOutput } from '../hooks/testing/store-output.js';
import { makeNar } from '../test-support/bytes.js';

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

let lc: ListeningCoordinator;
let dir: string;
let nar: Buffer;
let base: string;
let outPath: string;
let narPath: string;

/** One request with exactly these method, path and headers; the whole answer. */
function send(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    // A path with `..` must reach the server as written (URL parsing would resolve it).
    req.path = path;
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  lc = await startListening('sqlite', { cache: { signingKey: generateSecretKey('gbc-http-1') } });
  base = lc.listening.agentUrl;
  dir = mkdtempSync(join(tmpdir(), 'gbc-cache-http-'));
  nar = makeNar(dir, 64 * 1024);
  outPath = `/gnu/store/${hashPart()}-ranged`;
  narPath = `/nar/none/${outPath.slice(11)}`;
  await storeOutput(lc.c.context, { storePath: outPath, nar, compressions: ['none'] });
});

afterAll(async () => {
  await lc.close();
  rmSync(dir, { recursive: true, force: true });
});

const narinfoPath = () => `/${outPath.slice(11, 43)}.narinfo`;

describe('narinfo answers', () => {
  it('carries validators and Cache-Control, and HEAD the same headers without a body', async () => {
    const get = await send(narinfoPath());
    expect(get.status).toBe(200);
    expect(get.headers['cache-control']).toBe('public, max-age=86400');
    expect(get.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(Date.parse(get.headers['last-modified']!)).not.toBeNaN();
    expect(Number(get.headers['content-length'])).toBe(get.body.length);
    expect(parseNarInfo(get.body.toString(), { storeDir: '/gnu/store' }).storePath).toBe(outPath);
    const head = await send(narinfoPath(), {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers.etag).toBe(get.headers.etag);
  });

  it('answers 304 to its ETag (strong, weak, in a list, or *) and to a date not before Last-Modified', async () => {
    const { headers } = await send(narinfoPath());
    const etag = headers.etag!;
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const r = await send(narinfoPath(), { 'If-None-Match': ifNoneMatch });
      expect(r.status, ifNoneMatch).toBe(304);
      expect(r.body.length).toBe(0);
      expect(r.headers.etag).toBe(etag);
    }
    const since = await send(narinfoPath(), { 'If-Modified-Since': headers['last-modified']! });
    expect(since.status).toBe(304);
    const later = new Date(Date.parse(headers['last-modified']!) + 3600_000).toUTCString();
    expect((await send(narinfoPath(), { 'If-Modified-Since': later }, 'HEAD')).status).toBe(304);
  });

  it('answers the full text to bogus, stale or oversized conditions', async () => {
    const { headers, body } = await send(narinfoPath());
    const earlier = new Date(Date.parse(headers['last-modified']!) - 1000).toUTCString();
    const cases: Record<string, string>[] = [
      { 'If-None-Match': '"not-it"' },
      { 'If-None-Match': 'garbage,,,"' },
      { 'If-None-Match': `${'"x", '.repeat(2000)}${headers.etag!}` }, // 10 KB: past the bound, ignored
      { 'If-None-Match': '"not-it"', 'If-Modified-Since': headers['last-modified']! }, // ETag wins
      { 'If-Modified-Since': 'yesterday-ish' },
      { 'If-Modified-Since': earlier },
    ];
    for (const h of cases) {
      const r = await send(narinfoPath(), h);
      expect(r.status, JSON.stringify(h).slice(0, 80)).toBe(200);
      expect(Buffer.compare(r.body, body)).toBe(0);
    }
  });

  it('answers a miss 404 with a short Cache-Control of its own', async () => {
    const r = await send(`/${hashPart()}.narinfo`);
    expect(r.status).toBe(404);
    expect(r.headers['cache-control']).toBe('max-age=60');
    expect(JSON.parse(r.body.toString())).toMatchObject({ error: { code: 'not-found' } });
  });

  it('is counted in the request metrics when served on the agent port', async () => {
    await send(narinfoPath());
    const text = (await send('/metrics')).body.toString();
    expect(text).toMatch(/_count\{method="GET",route="[^"]*narinfo[^"]*",status="200"\} [1-9]/);
  });
});

describe('NAR answers', () => {
  it('sends the whole file with Content-Length, validators and Accept-Ranges; HEAD the headers only', async () => {
    const r = await send(narPath);
    expect(r.status).toBe(200);
    expect(Buffer.compare(r.body, nar)).toBe(0);
    expect(r.headers['content-length']).toBe(String(nar.length));
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['content-type']).toBe('application/x-nix-nar');
    const head = await send(narPath, { Range: 'bytes=0-9' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(nar.length));
    expect(head.body.length).toBe(0);
    expect((await send(narPath, { 'If-None-Match': r.headers.etag! })).status).toBe(304);
  });

  it('answers single ranges 206 with Content-Range: closed, open-ended, suffix, clipped', async () => {
    const n = nar.length;
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 20],
      ['bytes=1000-', 1000, n],
      ['bytes=-100', n - 100, n],
      [`bytes=-${n * 4}`, 0, n],
      ['bytes=5-99999999999999999999999999', 5, n],
      [`bytes=${n - 1}-${n - 1}`, n - 1, n],
    ];
    for (const [range, start, end] of cases) {
      const r = await send(narPath, { Range: range });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end - 1}/${n}`);
      expect(r.headers['content-length']).toBe(String(end - start));
      expect(Buffer.compare(r.body, nar.subarray(start, end)), range).toBe(0);
    }
  });

  it('answers 416 with the size to a range past the end or an empty suffix', async () => {
    for (const range of [`bytes=${nar.length}-`, `bytes=${nar.length + 10}-${nar.length + 20}`, 'bytes=-0']) {
      const r = await send(narPath, { Range: range });
      expect(r.status, range).toBe(416);
      expect(r.headers['content-range']).toBe(`bytes */${nar.length}`);
      expect(JSON.parse(r.body.toString())).toMatchObject({ error: { code: 'range-not-satisfiable' } });
    }
  });

  it('ignores malformed, foreign, reversed, many and oversized ranges: the whole file, once', async () => {
    const many = `bytes=${Array.from({ length: 1500 }, (_, i) => `${i}-${i}`).join(',')}`;
    for (const range of ['bytes=abc', 'items=0-1', 'bytes=20-10', 'bytes=0-1,5-6', 'bytes=', many]) {
      const r = await send(narPath, { Range: range });
      expect(r.status, range.slice(0, 40)).toBe(200);
      expect(r.body.length).toBe(nar.length);
    }
  });

  it('honours a Range only while If-Range names the current file', async () => {
    const { headers } = await send(narPath, {}, 'HEAD');
    const current = await send(narPath, { Range: 'bytes=0-3', 'If-Range': headers.etag! });
    expect(current.status).toBe(206);
    const byDate = await send(narPath, { Range: 'bytes=0-3', 'If-Range': headers['last-modified']! });
    expect(byDate.status).toBe(206);
    for (const stale of ['"0-0"', `W/${headers.etag!}`, 'Thu, 01 Jan 1970 00:00:00 GMT']) {
      const r = await send(narPath, { Range: 'bytes=0-3', 'If-Range': stale });
      expect(r.status, stale).toBe(200);
      expect(r.body.length).toBe(nar.length);
    }
  });

  it('refuses path tricks and unknown names without reading outside the store', async () => {
    const name = outPath.slice(11);
    const tricks: [string, number][] = [
      [`/nar/none/../../../etc/passwd`, 404],
      [`/nar/none/..%2f..%2fetc%2fpasswd`, 400],
      [`/nar/none/${name}%00`, 400],
      [`/nar/bogus/${name}`, 400],
      [`/nar/none/${name}/extra`, 404],
      [`//nar/none/${name}`, 404],
      [`/nar/none/${hashPart()}-${name.slice(33)}`, 404],
      [`/nar/gzip/${name}`, 404], // held, but not in this compression
      [`/nar/none/${name}?x=../../etc/passwd`, 200], // a query is not part of the name (Hono answers it)
    ];
    for (const [path, status] of tricks) {
      const r = await send(path);
      expect(r.status, path).toBe(status);
      expect(r.body.includes('root:')).toBe(false);
      if (status === 200) expect(Buffer.compare(r.body, nar)).toBe(0);
    }
  });
});
