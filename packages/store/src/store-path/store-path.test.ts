// Store path parsing and name rules, with property tests for the parser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { StorePathError } from './errors.js';
import { isValidStorePathName, validateStorePathName } from './name.js';
import { validateStoreDir } from './store-dir.js';
import {
  formatStorePath,
  isStorePath,
  parseStorePath,
  storePathBasename,
  storePathHashPart,
  storePathName,
} from './store-path.js';

const HASH = 'jzb54650ifw79lp5fhyiqn2ywxaj7psq';

describe('store paths', () => {
  it('parses and prints paths under any store directory', () => {
    for (const dir of ['/gnu/store', '/nix/store', '/tmp/x/store']) {
      const path = `${dir}/${HASH}-hello-2.12.1`;
      const parsed = parseStorePath(path, dir);
      expect(parsed).toEqual({ storeDir: dir, hashPart: HASH, name: 'hello-2.12.1' });
      expect(formatStorePath(parsed)).toBe(path);
      expect(storePathBasename(path)).toBe(`${HASH}-hello-2.12.1`);
      expect(storePathHashPart(path)).toBe(HASH);
      expect(storePathName(path)).toBe('hello-2.12.1');
    }
  });

  it('refuses paths outside the store, sub-paths, bad hashes and bad names', () => {
    const bad = [
      `/nix/store/${HASH}-x`,
      `/gnu/store/${HASH}-x/bin`,
      `/gnu/store/${HASH}`,
      `/gnu/store/${HASH}-`,
      `/gnu/store/${HASH.replace('j', 'e')}-x`,
      `/gnu/store/${HASH}-.hidden`,
      `/gnu/store/${HASH}-a b`,
      `/gnu/store/${HASH}-${'a'.repeat(212)}`,
      `/gnu/store/${HASH.slice(1)}-x`,
      `/gnu/storex/${HASH}-x`,
    ];
    for (const path of bad) {
      expect(isStorePath(path, '/gnu/store'), path).toBe(false);
      expect(() => parseStorePath(path, '/gnu/store')).toThrow(StorePathError);
    }
    expect(isStorePath(`/gnu/store/${HASH}-${'a'.repeat(211)}`, '/gnu/store')).toBe(true);
  });

  it('applies the name rules', () => {
    for (const name of ['a', 'foo-1.0+b_c?d=e', 'x.drv', 'A9']) expect(isValidStorePathName(name)).toBe(true);
    for (const name of ['', '.x', 'a/b', 'é', 'a:b', 'a\0']) expect(isValidStorePathName(name)).toBe(false);
    expect(() => validateStorePathName('.x')).toThrow(/starts with '\.'/);
  });

  it('refuses malformed store directories', () => {
    for (const dir of ['gnu/store', '/gnu/store/', '/', '/a//b', '/a/../b', '/a:b']) {
      expect(() => validateStoreDir(dir), dir).toThrow(StorePathError);
    }
    expect(validateStoreDir('/gnu/store')).toBe('/gnu/store');
  });

  it('only throws StoreError on random and mutated paths', () => {
    const base = `/gnu/store/${HASH}-hello`;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc
            .tuple(fc.nat(base.length), fc.string({ maxLength: 3 }))
            .map(([i, s]) => base.slice(0, i) + s + base.slice(i + 1)),
        ),
        (path) => {
          try {
            const parsed = parseStorePath(path, '/gnu/store');
            expect(formatStorePath(parsed)).toBe(path);
          } catch (error) {
            expect(error).toBeInstanceOf(StoreError);
          }
        },
      ),
    );
  });
});
