// Derivation test vectors as files, picked up by glob: adding a case is
// adding a file. ok/<nix|gnu>/*.drv are named as Nix named them;
// bad/<code>--<what>.drv must fail to parse with that code; bad/check/
// <code>--<basename> parse but must fail checkDerivation with that code.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDerivation, verifyDerivation } from './check.js';
import { hashDerivationClosure, loadDerivationClosure } from './closure.js';
import { DerivationError } from './errors.js';
import { parseDerivation } from './parse.js';
import { writeDerivation } from './write.js';

const root = join(import.meta.dirname, '../../fixtures/derivation');
const STORES = { nix: '/nix/store', gnu: '/gnu/store' } as const;
const read = (...parts: string[]): Uint8Array => new Uint8Array(readFileSync(join(root, ...parts)));
const files = (...parts: string[]): string[] =>
  readdirSync(join(root, ...parts), { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();

async function closureHashes(dir: 'nix' | 'gnu'): Promise<Map<string, Uint8Array>> {
  const storeDir = STORES[dir];
  const paths = files('ok', dir).map((f) => `${storeDir}/${f}`);
  const closure = await loadDerivationClosure(paths, (p) =>
    Promise.resolve(read('ok', dir, p.slice(storeDir.length + 1))),
  );
  return hashDerivationClosure(closure, storeDir);
}

describe.each(Object.keys(STORES) as Array<'nix' | 'gnu'>)('ok/%s fixtures', (dir) => {
  const names = files('ok', dir);

  it('has vectors to test', () => {
    expect(names.length).toBeGreaterThanOrEqual(5);
  });

  it.each(names)('%s round-trips and matches its path and output paths', async (name) => {
    const bytes = read('ok', dir, name);
    expect(Buffer.from(writeDerivation(parseDerivation(bytes))).equals(Buffer.from(bytes))).toBe(true);
    const hashes = await closureHashes(dir);
    const verified = verifyDerivation(`${STORES[dir]}/${name}`, bytes, {
      storeDir: STORES[dir],
      inputHashes: hashes,
    });
    expect(verified.name).toBe(name.slice(33, -4));
  });
});

describe('bad fixtures', () => {
  it.each(files('bad'))('%s is refused with the code its name gives', (name) => {
    const code = name.split('--')[0]!;
    let caught: unknown;
    try {
      parseDerivation(read('bad', name));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DerivationError);
    expect((caught as DerivationError).code).toBe(code);
    expect((caught as DerivationError).offset).toBeTypeOf('number');
  });

  it.each(files('bad', 'check'))(
    'check/%s parses but fails the check with the code its name gives',
    async (name) => {
      const [code, basename] = name.split('--') as [string, string];
      const hashes = await closureHashes('nix');
      const result = checkDerivation(`/nix/store/${basename}`, read('bad', 'check', name), {
        storeDir: '/nix/store',
        inputHashes: hashes,
      });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.map((e) => e.code)).toContain(code);
    },
  );
});
