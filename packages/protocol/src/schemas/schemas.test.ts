// Every named schema accepts good examples and rejects bad ones with a message naming the field.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { fromZodError } from '../errors.js';
import * as protocol from '../index.js';
import { schemaRegistry } from './registry.js';
import { decodeDerivationText, encodeDerivationText } from './derivations.js';
import { H, examples } from '../testing/examples.js';
import { listBuildsQuerySchema } from './builds.js';
import { eventsQuerySchema } from './events.js';
import { storePathSchema } from './common.js';

/** Every exported schema that is registered under a component id. */
function namedSchemas(): Map<string, z.ZodType> {
  const out = new Map<string, z.ZodType>();
  for (const [name, value] of Object.entries(protocol)) {
    if (!name.endsWith('Schema') || !(value instanceof z.ZodType)) continue;
    const id = schemaRegistry.get(value)?.id;
    if (id !== undefined) out.set(id, value);
  }
  return out;
}

describe('named schemas', () => {
  const schemas = namedSchemas();

  it('every named schema has examples, and every example names a schema', () => {
    expect([...schemas.keys()].sort()).toEqual(Object.keys(examples).sort());
  });

  for (const [id, { good, bad }] of Object.entries(examples)) {
    it(`${id} accepts good examples and refuses bad ones naming the field`, () => {
      const schema = schemas.get(id);
      expect(schema, id).toBeDefined();
      for (const value of good) {
        const r = schema!.safeParse(value);
        expect(r.success ? '' : fromZodError(id, r.error).message, JSON.stringify(value)).toBe('');
      }
      for (const [value, path] of bad) {
        const r = schema!.safeParse(value);
        expect(r.success, JSON.stringify(value)).toBe(false);
        if (!r.success) {
          const err = fromZodError(id, r.error);
          expect(err.code).toBe('bad-request');
          expect(err.status).toBe(400);
          if (path !== '') expect(err.message).toMatch(new RegExp(` ${path.replace(/\./g, '\\.')}[.:]`));
          expect(err.message).toMatch(new RegExp(`^invalid ${id}: `));
        }
      }
    });
  }
});

describe('named schemas on arbitrary input', () => {
  it('only ever answer success or a zod error, never throw', () => {
    const schemas = [...namedSchemas().values()];
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(schemas.length - 1), (value, i) => {
        const r = schemas[i]!.safeParse(value);
        if (!r.success) expect(r.error.issues.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('query schemas', () => {
  it('GET /builds accepts repeated and single values and coerces numbers', () => {
    const q = listBuildsQuerySchema.parse({
      state: 'queued',
      tag: ['a=1', 'b=x=y'],
      limit: '25',
      blocked: 'true',
    });
    expect(q).toMatchObject({ state: ['queued'], tag: ['a=1', 'b=x=y'], limit: 25, blocked: true });
    expect(listBuildsQuerySchema.parse({}).limit).toBe(100);
    expect(listBuildsQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    expect(listBuildsQuerySchema.safeParse({ tag: 'novalue' }).success).toBe(false);
    expect(listBuildsQuerySchema.safeParse({ state: ['queued', 'nope'] }).success).toBe(false);
  });

  it('GET /events takes one or several types', () => {
    expect(eventsQuerySchema.parse({ type: 'build-started' }).type).toEqual(['build-started']);
    expect(eventsQuerySchema.parse({}).type).toEqual([]);
    expect(eventsQuerySchema.safeParse({ type: ['build-started', 'x'] }).success).toBe(false);
  });
});

describe('store paths and derivation text', () => {
  it('derivation text survives base64 byte for byte, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        expect(decodeDerivationText(encodeDerivationText(bytes))).toEqual(bytes);
      }),
    );
  });

  it('store paths need the 32-character hash in the Nix base32 alphabet and a valid name', () => {
    expect(storePathSchema.safeParse(`/nix/store/${H}-a`).success).toBe(true);
    expect(storePathSchema.safeParse(`/nix/store/${H.replace('a', 'e')}-a`).success).toBe(false);
    expect(storePathSchema.safeParse(`/nix/store/${H}-.hidden`).success).toBe(false);
    expect(storePathSchema.safeParse(`/nix/store/${H}-a/b`).success).toBe(false);
    expect(storePathSchema.safeParse(`nix/store/${H}-a`).success).toBe(false);
  });
});
