// Error codes, statuses and ProtocolError round trips.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ProtocolError,
  errorBodySchema,
  errorStatus,
  fromZodError,
  isProtocolError,
  parseWith,
  statusOf,
} from './errors.js';

describe('errors', () => {
  it('maps codes to statuses', () => {
    expect(errorStatus['not-found']).toBe(404);
    expect(errorStatus['hash-mismatch']).toBe(400);
    expect(errorStatus['unprocessable-derivation']).toBe(422);
    expect(statusOf('payload-too-large')).toBe(413);
    expect(statusOf('timeout')).toBe(0);
    expect(statusOf('something-else')).toBe(500);
    expect(statusOf('toString')).toBe(500);
  });

  it('ProtocolError writes the JSON error body the schema accepts', () => {
    const err = new ProtocolError('conflict', 'build already finished', { details: { state: 'succeeded' } });
    expect(err.status).toBe(409);
    expect(err).toBeInstanceOf(Error);
    const body = err.toBody();
    expect(errorBodySchema.parse(body)).toEqual({
      error: { code: 'conflict', message: 'build already finished', details: { state: 'succeeded' } },
    });
    expect(new ProtocolError('forbidden', 'no').toBody()).toEqual({
      error: { code: 'forbidden', message: 'no' },
    });
  });

  it('turns zod failures into bad-request with each field named', () => {
    const r = z
      .object({ count: z.number().int(), systems: z.array(z.string()).min(1) })
      .safeParse({ count: 'x', systems: [] });
    expect(r.success).toBe(false);
    if (r.success) return;
    const err = fromZodError('fetch-builds body', r.error);
    expect(err.code).toBe('bad-request');
    expect(err.message).toMatch(/^invalid fetch-builds body: count: .*; systems: /);
    expect(err.details).toHaveLength(2);
  });
});

describe('parseWith and isProtocolError', () => {
  it('returns parsed data or throws bad-request naming where', () => {
    const schema = z.object({ n: z.coerce.number().int() });
    expect(parseWith(schema, { n: '4' }, 'query')).toEqual({ n: 4 });
    let caught: unknown;
    try {
      parseWith(schema, { n: 'x' }, 'GET /builds query');
    } catch (err) {
      caught = err;
    }
    expect(isProtocolError(caught, 'bad-request')).toBe(true);
    expect(isProtocolError(caught, 'not-found')).toBe(false);
    expect(isProtocolError(new Error('x'))).toBe(false);
    expect((caught as Error).message).toMatch(/^invalid GET \/builds query: n: /);
  });
});
