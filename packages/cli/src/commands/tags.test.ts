// Tags on the command line: key=value, values may hold '=', keys unique.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { formatTags, parseTags } from './tags.js';

describe('parseTags', () => {
  it('splits at the first = and keeps the rest as the value', () => {
    expect(parseTags(['a=b', 'c=d=e', 'f='])).toEqual([
      { key: 'a', value: 'b' },
      { key: 'c', value: 'd=e' },
      { key: 'f', value: '' },
    ]);
  });

  it('refuses a missing key, a missing = and a repeated key with a usage error', () => {
    for (const bad of [['=x'], ['novalue'], ['k=1', 'k=2']]) {
      expect(() => parseTags(bad)).toThrow(CliError);
    }
  });

  it('round-trips through formatTags for keys without = or spaces', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, fc.stringMatching(/^[^ ]{0,10}$/)), { selector: (t) => t[0] }),
        (pairs) => {
          const tags = pairs.map(([k, v]) => ({ key: k, value: v }));
          const text = formatTags(tags);
          expect(parseTags(text === '' ? [] : text.split(' '))).toEqual(tags);
        },
      ),
    );
  });
});
