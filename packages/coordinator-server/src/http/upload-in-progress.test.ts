// A resumed upload that races the broken one still being closed is a
// transient state: 503 `upload-in-progress` with Retry-After, which the
// protocol's clients decode as a retryable ProtocolError.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorStatus, statusOf } from '@gbc/protocol';
import { StorageError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { createErrorHandler, toHttpError } from './on-error.js';

describe('upload-in-progress', () => {
  it('is a 503 code of the protocol', () => {
    expect(errorStatus['upload-in-progress']).toBe(503);
    expect(statusOf('upload-in-progress')).toBe(503);
  });

  it('answers 503 with Retry-After and its own code', async () => {
    const app = new Hono();
    app.onError(createErrorHandler(silentLogger));
    app.put('/up', () => {
      throw new StorageError(
        'upload-in-progress',
        'upload b-out is being received by another request; retry when it ends',
      );
    });
    const res = await app.request('/up', { method: 'PUT' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upload-in-progress');
    expect(toHttpError(new StorageError('log-sealed', 'x')).status).toBe(409);
  });
});
