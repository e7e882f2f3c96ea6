// Guix signatures against libgcrypt (guile-gcrypt doing what guix publish and
// guix substitute do): identical bytes for the same key and text, each side
// accepts the other's signatures, and both refuse the same tampering.
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GUIX_FIXTURES, oracleGenerateKey, oracleSign, oracleVerify } from './guile-oracle-test-support.js';
import {
  generateGuixSecretKey,
  parseGuixPublicKey,
  parseGuixSecretKey,
  formatGuixPublicKey,
  formatGuixSecretKey,
} from './guix-key.js';
import { signGuixText, verifyGuixSignature } from './guix-sign-narinfo.js';
import { formatGuixSignature, parseGuixSignature, writeGuixSignatureSexp } from './guix-signature-sexp.js';

const secretText = readFileSync(join(GUIX_FIXTURES, 'signing-key.sec'), 'utf8');
const publicText = readFileSync(join(GUIX_FIXTURES, 'signing-key.pub'), 'utf8');
const secret = parseGuixSecretKey(secretText);
const trusted = [parseGuixPublicKey(publicText)];
const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

// Fixed texts plus random ones; enough that some r or s has a short or
// high-bit-first MPI form (31 bytes, no sign byte, as libgcrypt writes it).
const texts: string[] = [
  '',
  'hello',
  'StorePath: /gnu/store/aaaa-x\nNarHash: sha256:0\n',
  'ünïcødé ✓\n',
  ...fc.sample(fc.string({ maxLength: 200, unit: 'grapheme' }), { numRuns: 60, seed: 99 }),
];

describe('Guix signatures against libgcrypt', () => {
  it('signs each text with exactly the bytes libgcrypt produces', () => {
    const ours = texts.map((t) => signGuixText(t, secret, 'cache.example.org'));
    expect(ours).toEqual(oracleSign(secretText, publicText, 'cache.example.org', texts));
    const mpis = ours.map((v) => Buffer.from(v.split(';')[2] as string, 'base64').toString('latin1'));
    expect(mpis.some((sexp) => /\((r|s) #[89A-F][0-9A-F]{61}#/.test(sexp))).toBe(true);
  });

  it('makes the same signatures as libgcrypt with a key libgcrypt generates', () => {
    const key = oracleGenerateKey();
    const parsed = parseGuixSecretKey(key.secretText);
    expect(formatGuixSecretKey(parsed)).toBe(key.secretText);
    expect(formatGuixPublicKey(parsed.publicKey)).toBe(key.publicText);
    const sample = texts.slice(0, 8);
    expect(sample.map((t) => signGuixText(t, parsed, 'h'))).toEqual(
      oracleSign(key.secretText, key.publicText, 'h', sample),
    );
  });

  it('makes signatures libgcrypt accepts with a key we generate, and accepts its signatures with that key', () => {
    let n = 0;
    const key = generateGuixSecretKey((size) => Buffer.alloc(size, (n += 1)));
    const sec = formatGuixSecretKey(key);
    const pub = formatGuixPublicKey(key.publicKey);
    const sample = texts.slice(0, 6);
    const theirs = oracleSign(sec, pub, 'h', sample);
    expect(sample.map((t) => signGuixText(t, key, 'h'))).toEqual(theirs);
    expect(sample.map((t, i) => verifyGuixSignature(t, theirs[i] as string, [key.publicKey]).valid)).toEqual(
      sample.map(() => true),
    );
    expect(
      oracleVerify(
        pub,
        sample.map((text) => ({ text, signature: signGuixText(text, key, 'h') })),
      ),
    ).toEqual(sample.map(() => 'valid'));
  });

  it('writes an r or s that libgcrypt prints as a quoted string as Guix does, and reads it back', () => {
    // Texts whose signature by the fixture key has a "printable" r or s (found
    // by search: about one in 4,000 signatures). Guix base64-encodes such a
    // quoted string's bytes ≥ 0x80 as UTF-8 characters, not as raw bytes.
    const printable = ['printable-7305', 'printable-19994', 'printable-25364'];
    const ours = printable.map((t) => signGuixText(t, secret, 'h'));
    for (const value of ours) {
      const text = Buffer.from(value.split(';')[2]!, 'base64').toString('utf8');
      expect(text).toMatch(/\((r|s) "[^\n]*[\u0080-\u00ff]/);
    }
    const theirs = oracleSign(secretText, publicText, 'h', printable);
    expect(ours).toEqual(theirs);
    expect(printable.map((t, i) => verifyGuixSignature(t, theirs[i]!, trusted).valid)).toEqual([
      true,
      true,
      true,
    ]);
    expect(
      oracleVerify(
        publicText,
        printable.map((text, i) => ({ text, signature: ours[i]! })),
      ),
    ).toEqual(['valid', 'valid', 'valid']);
    // What gbc wrote before (the raw bytes) still reads, and still verifies.
    const raw = parseGuixSignature(ours[0]!);
    const rawValue = `1;h;${Buffer.from(writeGuixSignatureSexp(raw)).toString('base64')}`;
    expect(rawValue).not.toBe(ours[0]);
    expect(verifyGuixSignature(printable[0]!, rawValue, trusted).valid).toBe(true);
  });

  it('accepts libgcrypt signatures, and libgcrypt accepts ours', () => {
    const theirs = oracleSign(secretText, publicText, 'their-host', texts);
    for (const [i, text] of texts.entries()) {
      expect(verifyGuixSignature(text, theirs[i] as string, trusted)).toEqual({
        valid: true,
        host: 'their-host',
        key: trusted[0],
      });
    }
    const pairs = texts.map((text) => ({ text, signature: signGuixText(text, secret, 'our-host') }));
    expect(oracleVerify(publicText, pairs)).toEqual(texts.map(() => 'valid'));
  });

  it('refuses tampered text, tampered signatures and other keys, as libgcrypt does', () => {
    const text = 'StorePath: /gnu/store/aaaa-x\nNarSize: 100\n';
    const good = parseGuixSignature(signGuixText(text, secret, 'h'));
    const other = generateGuixSecretKey();
    const cases = [
      { text: text.replace('100', '101'), signature: formatGuixSignature(good), reason: 'hash-mismatch' },
      {
        text,
        signature: formatGuixSignature({
          ...good,
          signature: { ...good.signature, r: good.signature.r + 1n },
        }),
        reason: 'bad-signature',
      },
      {
        text,
        signature: formatGuixSignature({
          ...good,
          signature: { ...good.signature, s: good.signature.s ^ 4n },
        }),
        reason: 'bad-signature',
      },
      {
        text,
        signature: formatGuixSignature({ ...good, publicKey: other.publicKey }),
        reason: 'untrusted-key',
      },
      { text, signature: signGuixText(text, other, 'h'), reason: 'untrusted-key' },
      { text, signature: `2;h;${formatGuixSignature(good).split(';')[2] as string}`, reason: 'malformed' },
      { text, signature: '1;h;not base64!', reason: 'malformed' },
      {
        text,
        signature: `1;h;${Buffer.from(`(signature (data (hash sha256 #${sha256Hex(text)}#)))`).toString('base64')}`,
        reason: 'malformed',
      },
    ];
    expect(oracleVerify(publicText, cases)).toEqual(cases.map((c) => c.reason));
    for (const c of cases) {
      const verdict = verifyGuixSignature(c.text, c.signature, trusted);
      expect(verdict.valid ? 'valid' : verdict.reason, c.signature).toBe(c.reason);
    }
  });

  it('answers random or mutated Signature values with a verdict, never a throw', () => {
    const good = signGuixText('x', secret, 'h');
    const mutated = fc
      .tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([at, c]) => good.slice(0, at % good.length) + c + good.slice((at % good.length) + 1));
    fc.assert(
      fc.property(fc.oneof(mutated, fc.string({ maxLength: 100 })), (value) => {
        const verdict = verifyGuixSignature('x', value, trusted);
        expect(verdict.valid ? value : verdict.reason).not.toBe('');
        if (verdict.valid) expect(parseGuixSignature(value).hash).toEqual(parseGuixSignature(good).hash);
      }),
      { numRuns: 500, seed: 3 },
    );
  });
});
