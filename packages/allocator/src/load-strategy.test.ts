// Loading strategies: built-in names, custom modules (default or named export),
// and clear errors for modules that are missing or provide no strategy.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinStrategy } from './builtin-strategies.js';
import { loadStrategy, resolveStrategy, validateStrategy } from './load-strategy.js';
import { ag, ids, qb } from './testing/builders.js';

const fixtures = fileURLToPath(new URL('./testing/fixtures/', import.meta.url));

describe('strategy loading', () => {
  it('resolves built-in names and rejects unknown ones', async () => {
    expect((await resolveStrategy('derivation-ordered')).name).toBe('derivation-ordered');
    expect(() => builtinStrategy('fastest')).toThrow(/unknown allocation strategy "fastest"/);
  });

  it('loads a default export relative to a base directory and uses it', async () => {
    const s = await resolveStrategy('newest-first-strategy.ts', { baseDir: fixtures });
    expect(s.name).toBe('newest-first');
    const index = s.createIndex({
      builds: [qb('old', { createdAt: 1 }), qb('new', { createdAt: 2 })],
      agents: [ag('a')],
    });
    expect(ids(s.take(index, 'a', 2, 0))).toEqual(['new', 'old']);
  });

  it('loads a named `strategy` export', async () => {
    expect((await loadStrategy(`${fixtures}named-export-strategy.ts`)).name).toBe('named-basic');
  });

  it('says what is missing from a module that is not a strategy', async () => {
    await expect(loadStrategy('not-a-strategy.ts', fixtures)).rejects.toMatchObject({
      code: 'invalid-strategy',
      message: expect.stringMatching(/missing or wrong createIndex\(\), insert\(\)/),
    });
    await expect(loadStrategy('no-export.ts', fixtures)).rejects.toMatchObject({
      code: 'invalid-strategy',
      message: expect.stringMatching(/exports neither/),
    });
    await expect(loadStrategy('does-not-exist.js', fixtures)).rejects.toMatchObject({
      code: 'strategy-not-found',
    });
    expect(() => validateStrategy(null)).toThrow(/expected an object, found null/);
  });
});
