// NARs kept in an object store that presigns GETs (`presign=SECONDS`): the
// cache answers a NAR request with a redirect to the presigned URL (not to be
// kept), and the object store serves the bytes and ranges from there. Real
// HTTP throughout: a coordinator listening on loopback, and the S3 server of
// the environment or an s3rver (storage/testing/s3-target.ts).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPart, startListening, type ListeningCoordinator } from '../agent-api/test-support.js';
import { storeOutput } from '../hooks/testing/store-output.js';
import { startS3Target, type S3TestTarget } from '../storage/testing/s3-target.js';
import { makeNar } from '../test-support/bytes.js';

let target: S3TestTarget | undefined;
let lc: ListeningCoordinator | undefined;
const dir = mkdtempSync(join(tmpdir(), 'gbc-cache-direct-'));

function get(url: string, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  target = await startS3Target();
  lc = await startListening('sqlite', {
    storage: `${target.url()}&presign=120`,
    s3: { credentials: target.credentials },
  });
});

afterAll(async () => {
  await lc?.close();
  await target?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('NARs in an object store that presigns', () => {
  it('are answered with a redirect to a presigned URL that serves the bytes and ranges', async () => {
    const nar = makeNar(dir, 8192);
    const storePath = `/gnu/store/${hashPart()}-direct`;
    await storeOutput(lc!.c.context, { storePath, nar, compressions: ['none'] });
    for (const method of ['GET', 'HEAD']) {
      const r = await get(`${lc!.listening.agentUrl}/nar/none/${storePath.slice(11)}`, method);
      expect(r.status, method).toBe(302);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers.location).toMatch(/^https?:\/\//);
    }
    const { headers } = await get(`${lc!.listening.agentUrl}/nar/none/${storePath.slice(11)}`);
    const whole = await fetch(headers.location!);
    expect(whole.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await whole.arrayBuffer()), nar)).toBe(0);
    const part = await fetch(headers.location!, { headers: { Range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.compare(Buffer.from(await part.arrayBuffer()), nar.subarray(100, 200))).toBe(0);
    const missing = await get(`${lc!.listening.agentUrl}/nar/none/${hashPart()}-direct`);
    expect(missing.status).toBe(404);
  });
});
