// Refused uploads read the rest of their body (bounded) before answering:
// the drain helper's bounds, and PUT /source refusals through the client app.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeUploadHeaders } from '@gbc/protocol';
import { startTestCoordinator, type TestCoordinator } from '../client-api/test-support.js';
import { drainBody } from './request-body.js';

const CHUNK = new Uint8Array(256 * 1024);

/** A request body of `chunks` chunks that counts how many were pulled and whether it ended. */
function countingBody(chunks: number): {
  stream: ReadableStream<Uint8Array>;
  pulled: () => number;
  ended: () => boolean;
} {
  let pulled = 0;
  let ended = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled === chunks) {
          ended = true;
          controller.close();
          return;
        }
        pulled += 1;
        controller.enqueue(CHUNK.slice());
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled: () => pulled, ended: () => ended };
}

describe('drainBody', () => {
  it('reads a body to its end within the bounds', async () => {
    const body = Readable.from([CHUNK, CHUNK, CHUNK]);
    expect(await drainBody(body)).toBe(true);
    expect(body.readableEnded).toBe(true);
  });

  it('gives up past its byte bound', async () => {
    expect(await drainBody(Readable.from([CHUNK, CHUNK, CHUNK]), { maxBytes: CHUNK.length })).toBe(false);
  });

  it('gives up past its time bound', async () => {
    const stalled = new Readable({
      read() {
        /* never produces */
      },
    });
    expect(await drainBody(stalled, { maxMs: 20 })).toBe(false);
    stalled.destroy();
  });
});

describe('PUT /source refusal', () => {
  let t: TestCoordinator;
  beforeAll(async () => {
    t = await startTestCoordinator('sqlite', '/nix/store');
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads the whole body before answering missing-references', async () => {
    const body = countingBody(16);
    const headers = encodeUploadHeaders({
      compression: 'none',
      narHash: `sha256:${'0'.repeat(52)}`,
      narSize: 16 * CHUNK.length,
      references: ['00000000000000000000000000000000-absent'],
    });
    const res = await t.request('/source/11111111111111111111111111111111-src', {
      method: 'PUT',
      body: body.stream,
      headers,
      duplex: 'half',
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('missing-references');
    expect(body.pulled()).toBe(16);
    expect(body.ended()).toBe(true);
    expect(res.headers.get('connection')).toBeNull();
  });

  it('reads the whole body after refusing a NAR longer than announced', async () => {
    const body = countingBody(8);
    const res = await t.request('/source/22222222222222222222222222222222-src', {
      method: 'PUT',
      body: body.stream,
      duplex: 'half',
      headers: encodeUploadHeaders({
        compression: 'none',
        narHash: `sha256:${'1'.repeat(52)}`,
        narSize: 1024,
        references: [],
      }),
    });
    expect(res.status).toBe(413);
    expect(body.pulled()).toBe(8);
    expect(body.ended()).toBe(true);
  });
});
