// S-expression reading and writing, checked against libgcrypt (guile-gcrypt).
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUIX_FIXTURES, oracleReprint } from './guile-oracle-test-support.js';
import { GuixSignatureError } from './guix-signature-error.js';
import type { Sexp } from './sexp.js';
import { sexpAtom, sexpEqual } from './sexp.js';
import { parseSexp } from './sexp-parse.js';
import { writeSexp } from './sexp-write.js';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const atomArb = fc.oneof(
  fc.constantFrom('ecc', 'q', 'Ed25519', 'sha256', 'a-b.c/d_e:f*g+h=i', '9lives', '').map(sexpAtom),
  fc.uint8Array({ minLength: 0, maxLength: 40 }),
  fc.string({ maxLength: 20 }).map(sexpAtom),
);
const { tree: sexpArb } = fc.letrec<{ tree: readonly Sexp[]; node: Sexp }>((tie) => ({
  tree: fc.array(tie('node'), { maxLength: 5 }),
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atomArb, tie('tree')),
}));

describe('s-expressions', () => {
  it('reads and rewrites the key files Guix writes byte for byte', () => {
    for (const name of ['signing-key.pub', 'signing-key.sec']) {
      const file = readFileSync(join(GUIX_FIXTURES, name));
      const sexp = parseSexp(file);
      expect(text(writeSexp(sexp))).toBe(file.toString('latin1'));
      expect(sexpEqual(parseSexp(writeSexp(sexp, 'canonical')), sexp)).toBe(true);
      expect(text(writeSexp(sexp, 'canonical'))).toMatch(
        /^\(\d+:(private|public)-key\(3:ecc\(5:curve7:Ed25519\)\(1:q32:/,
      );
    }
  });

  it('reads every libgcrypt notation as libgcrypt does', () => {
    const inputs = [
      '(a "quoted \\"str\\"\\n\\t\\x41\\101 end" |aGVsbG8=| #00 ff# 3:a b)',
      '(7:example(4:data5:hello)())',
      '(line "con\\\ntinued" "tab\there" "\'")',
      '  (x (y (z)) w)  \n',
      '(a "" #7F# #80# #41# "9" "\\x00x")',
    ];
    const ours = inputs.map((t) => text(writeSexp(parseSexp(t))));
    expect(ours).toEqual(oracleReprint(inputs));
  });

  it('refuses what libgcrypt refuses, with a typed error and an offset', () => {
    const bad = ['(a', 'a)', '(a))', '(#0#)', '(#zz#)', '("abc)', '(a "\\q")', '(5:abc)', '(a) (b)', ''];
    expect(oracleReprint(bad.slice(0, -2))).toEqual(bad.slice(0, -2).map(() => 'error\n'));
    for (const t of bad) {
      const error = (() => {
        try {
          parseSexp(t);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, t).toBeInstanceOf(GuixSignatureError);
      expect((error as GuixSignatureError).code).toBe('guix-sexp-syntax');
      expect((error as GuixSignatureError).offset).toBeTypeOf('number');
    }
    expect(() => parseSexp('([hint]x)')).toThrow(expect.objectContaining({ code: 'guix-sexp-unsupported' }));
  });

  it('writes random trees as libgcrypt does, and reads both forms back to the same tree', () => {
    // guile-gcrypt passes s-expressions through Guile strings in the locale's
    // encoding: only trees whose written form is ASCII reach libgcrypt intact.
    const trees = fc
      .sample(sexpArb, { numRuns: 80, seed: 4242 })
      .filter((t) => writeSexp(t).every((c) => c < 0x80));
    expect(trees.length).toBeGreaterThan(40);
    const written = trees.map((t) => writeSexp(t));
    expect(written.map(text)).toEqual(oracleReprint(written));
    for (const tree of trees) {
      expect(sexpEqual(parseSexp(writeSexp(tree)), tree)).toBe(true);
      expect(sexpEqual(parseSexp(writeSexp(tree, 'canonical')), tree)).toBe(true);
    }
  });

  it('meets random and mutated text with a typed error or a tree, never a crash', () => {
    const mutated = fc.tuple(sexpArb, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([t, at, byte]) => {
      const b = Buffer.from(writeSexp(t));
      if (b.length > 0) b[at % b.length] = byte;
      return b;
    });
    fc.assert(
      fc.property(
        fc.oneof(mutated, fc.uint8Array({ maxLength: 80 }), fc.string({ maxLength: 80 })),
        (input) => {
          try {
            const tree = parseSexp(input);
            expect(sexpEqual(parseSexp(writeSexp(tree, 'canonical')), tree)).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(GuixSignatureError);
          }
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });
});
