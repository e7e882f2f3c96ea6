// Property tests: random derivations round-trip byte for byte; random and
// mutated bytes give a canonical derivation or a DerivationError, nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DerivationError } from './errors.js';
import { parseDerivation } from './parse.js';
import type { Derivation, DerivationOutput } from './types.js';
import { compareByteStrings, writeDerivation } from './write.js';

const SPECIAL = [0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x28, 0x29, 0x5b, 0x5d, 0x2c, 0x00, 0xff, 0xc3, 0xa9];
const byteString = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...SPECIAL)), { maxLength: 10 })
  .map((bytes) => String.fromCharCode(...bytes));
const keys = fc.uniqueArray(byteString, { maxLength: 5 });
const output: fc.Arbitrary<DerivationOutput> = fc.record({
  path: byteString,
  hashAlgo: byteString,
  hash: byteString,
});
const sorted = (items: string[]): string[] => [...items].sort(compareByteStrings);

const derivation: fc.Arbitrary<Derivation> = fc.record({
  outputs: keys.chain((ks) =>
    fc.tuple(...ks.map(() => output)).map((os) => new Map(sorted(ks).map((k, i) => [k, os[i]!]))),
  ),
  inputDrvs: keys.chain((ks) =>
    fc.tuple(...ks.map(() => keys.map(sorted))).map((ls) => new Map(sorted(ks).map((k, i) => [k, ls[i]!]))),
  ),
  inputSrcs: keys.map(sorted),
  system: byteString,
  builder: byteString,
  args: fc.array(byteString, { maxLength: 5 }),
  env: keys.chain((ks) =>
    fc.tuple(...ks.map(() => byteString)).map((vs) => new Map(sorted(ks).map((k, i) => [k, vs[i]!]))),
  ),
});

type Mutation = { kind: 'set' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...SPECIAL)),
});

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  const b = [...bytes];
  if (m.kind === 'set') b[at] = m.byte;
  else if (m.kind === 'insert') b.splice(at, 0, m.byte);
  else if (m.kind === 'delete') b.splice(at, 1);
  else b.length = at;
  return new Uint8Array(b);
}

/** Parses; if that succeeds the bytes must be canonical, else only a DerivationError may come out. */
function parseOrRefuse(bytes: Uint8Array): void {
  let drv: Derivation;
  try {
    drv = parseDerivation(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(DerivationError);
    return;
  }
  expect(Buffer.from(writeDerivation(drv)).equals(Buffer.from(bytes))).toBe(true);
}

describe('derivation properties', () => {
  it('round-trips random valid derivations byte for byte', () => {
    fc.assert(
      fc.property(derivation, (drv) => {
        const bytes = writeDerivation(drv);
        const parsed = parseDerivation(bytes);
        expect(parsed).toEqual(drv);
        expect(Buffer.from(writeDerivation(parsed)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives only DerivationError for mutated derivations', () => {
    fc.assert(
      fc.property(derivation, fc.array(mutation, { minLength: 1, maxLength: 4 }), (drv, ms) => {
        parseOrRefuse(ms.reduce(mutate, writeDerivation(drv)));
      }),
      { numRuns: 500 },
    );
  });

  it('gives only DerivationError for random bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .uint8Array({ maxLength: 60 })
            .map((b) => new Uint8Array([...new TextEncoder().encode('Derive(['), ...b])),
        ),
        parseOrRefuse,
      ),
      { numRuns: 500 },
    );
  });
});
