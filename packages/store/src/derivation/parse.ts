// Parses a `.drv` file's bytes into a Derivation, accepting only the
// canonical form Nix and Guix write, so that writing it back is byte-exact.
import { quote } from '../errors.js';
import { AtermReader } from './aterm-reader.js';
import { DerivationError } from './errors.js';
import type { Derivation, DerivationOutput } from './types.js';

/**
 * Parses derivation bytes. Throws DerivationError naming the rule and the
 * offset: syntax, escapes, unsorted or duplicate keys (maps, inputSrcs and
 * output-name lists), trailing bytes.
 */
export function parseDerivation(bytes: Uint8Array): Derivation {
  const r = new AtermReader(bytes);
  r.expect('Derive(');
  const outputs = sortedMap(r, 'outputs', () => {
    r.expect('(');
    const name = r.string();
    r.expect(',');
    const path = r.string();
    r.expect(',');
    const hashAlgo = r.string();
    r.expect(',');
    const hash = r.string();
    r.expect(')');
    return [name, { path, hashAlgo, hash } satisfies DerivationOutput] as const;
  });
  r.expect(',');
  const inputDrvs = sortedMap(r, 'inputDrvs', () => {
    r.expect('(');
    const path = r.string();
    r.expect(',');
    const names = sortedList(r, `inputDrvs ${path}`);
    r.expect(')');
    return [path, names] as const;
  });
  r.expect(',');
  const inputSrcs = sortedList(r, 'inputSrcs');
  r.expect(',');
  const system = r.string();
  r.expect(',');
  const builder = r.string();
  r.expect(',');
  const args = r.list(() => r.string());
  r.expect(',');
  const env = sortedMap(r, 'env', () => {
    r.expect('(');
    const key = r.string();
    r.expect(',');
    const value = r.string();
    r.expect(')');
    return [key, value] as const;
  });
  r.expect(')');
  if (r.offset !== bytes.length) {
    throw new DerivationError('drv-trailing', 'bytes after the end of the derivation', {
      offset: r.offset,
      expected: 'end of input',
      found: `${bytes.length - r.offset} more bytes`,
    });
  }
  return { outputs, inputDrvs, inputSrcs, system, builder, args, env };
}

function sortedMap<V>(r: AtermReader, field: string, entry: () => readonly [string, V]): Map<string, V> {
  const map = new Map<string, V>();
  let last: string | undefined;
  r.list(() => {
    const offset = r.offset;
    const [key, value] = entry();
    checkOrder(field, last, key, offset);
    last = key;
    map.set(key, value);
  });
  return map;
}

function sortedList(r: AtermReader, field: string): string[] {
  let last: string | undefined;
  return r.list(() => {
    const offset = r.offset;
    const value = r.string();
    checkOrder(field, last, value, offset);
    last = value;
    return value;
  });
}

function checkOrder(field: string, last: string | undefined, key: string, offset: number): void {
  if (last === undefined || last < key) return;
  const duplicate = last === key;
  throw new DerivationError(
    duplicate ? 'drv-duplicate' : 'drv-unsorted',
    duplicate ? 'duplicate key' : 'keys are not sorted',
    {
      field,
      offset,
      expected: duplicate ? 'each key once' : `a key after ${quote(last)} in byte order`,
      found: quote(key),
    },
  );
}
