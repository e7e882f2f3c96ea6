// Whole Guix narinfos signed and checked both ways: ours against guile-gcrypt
// doing what guix publish and guix substitute do; keys that are not Guix keys refused.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guixSignedText } from '../../narinfo/guix-signed-text.js';
import { parseNarInfo } from '../../narinfo/parse-narinfo.js';
import { writeNarInfo } from '../../narinfo/write-narinfo.js';
import { GUIX_FIXTURES, oracleSign, oracleVerifyNarInfo } from './guile-oracle-test-support.js';
import { parseGuixPublicKey, parseGuixSecretKey } from './guix-key.js';
import { signGuixNarInfo, verifyGuixNarInfo } from './guix-sign-narinfo.js';
import { GuixSignatureError } from './guix-signature-error.js';

const secretText = readFileSync(join(GUIX_FIXTURES, 'signing-key.sec'), 'utf8');
const publicText = readFileSync(join(GUIX_FIXTURES, 'signing-key.pub'), 'utf8');
const secret = parseGuixSecretKey(secretText);
const trusted = [parseGuixPublicKey(publicText)];
const narinfoDir = join(GUIX_FIXTURES, '../narinfo/ok');
const guixInfos = readdirSync(narinfoDir)
  .filter((f) => f.startsWith('guix-'))
  .map((f) => parseNarInfo(readFileSync(join(narinfoDir, f)), { storeDir: '/gnu/store' }));

describe('Guix narinfo signatures', () => {
  it('signs each Guix narinfo exactly as guix publish would, and guix substitute accepts it', () => {
    expect(guixInfos.length).toBeGreaterThanOrEqual(4);
    const ours = guixInfos.map((info) => writeNarInfo(signGuixNarInfo(info, secret, 'ci.example.org')));
    const theirs = oracleSign(secretText, publicText, 'ci.example.org', guixInfos.map(guixSignedText));
    expect(ours).toEqual(guixInfos.map((info, i) => writeNarInfo({ ...info, guixSignature: theirs[i] })));
    expect(oracleVerifyNarInfo(publicText, ours)).toEqual(ours.map(() => 'valid'));
    for (const text of ours) {
      expect(verifyGuixNarInfo(parseNarInfo(text, { storeDir: '/gnu/store' }), trusted)).toMatchObject({
        valid: true,
        host: 'ci.example.org',
      });
    }
  });

  it('refuses a signed narinfo whose signed fields were changed, as guix substitute does', () => {
    const signed = guixInfos.map((info) => signGuixNarInfo(info, secret, 'h'));
    const tampered = signed.map((info) => ({ ...info, narSize: info.narSize + 1 }));
    expect(oracleVerifyNarInfo(publicText, tampered.map(writeNarInfo))).toEqual(
      tampered.map(() => 'hash-mismatch'),
    );
    for (const info of tampered)
      expect(verifyGuixNarInfo(info, trusted)).toMatchObject({ valid: false, reason: 'hash-mismatch' });
    // The URL groups after the signature are not signed in today's layout.
    const modern = signed.find((i) => i.flavour === 'guix') ?? expect.fail('no guix-flavour fixture');
    const moved = { ...modern, files: modern.files.map((f) => ({ ...f, url: `elsewhere/${f.url}` })) };
    expect(verifyGuixNarInfo(moved, trusted).valid).toBe(true);
    expect(oracleVerifyNarInfo(publicText, [writeNarInfo(moved)])).toEqual(['valid']);
  });

  it('calls a narinfo without a signature unsigned, and will not sign a Nix narinfo', () => {
    const nix = parseNarInfo(readFileSync(join(narinfoDir, 'nix-xz.narinfo')), { storeDir: '/nix/store' });
    expect(verifyGuixNarInfo(nix, trusted)).toMatchObject({ valid: false, reason: 'unsigned' });
    expect(() => signGuixNarInfo(nix, secret)).toThrow(
      expect.objectContaining({ code: 'guix-signature-info' }),
    );
    expect(() => signGuixNarInfo(guixInfos[0]!, secret, 'a;b')).toThrow(GuixSignatureError);
  });

  it('refuses key files that are not Guix Ed25519 ECC keys, with typed codes', () => {
    const q = /\(q (#[0-9A-F]+#)\)/.exec(publicText)?.[1] as string;
    const d = /\(d (#[0-9A-F]+#)\)/.exec(secretText)?.[1] as string;
    const cases: [string, string, (t: string) => unknown][] = [
      ['(public-key (ecc (curve NIST P-256) (q #04#)))', 'guix-key-bad', parseGuixPublicKey],
      [`(public-key (ecc (curve Ed25519) (flags eddsa) (q ${q})))`, 'guix-key-bad', parseGuixPublicKey],
      ['(public-key (ecc (curve Ed25519)))', 'guix-key-bad', parseGuixPublicKey],
      ['(public-key (ecc (curve Ed25519) (q #0102#)))', 'guix-key-bad', parseGuixPublicKey],
      ['(public-key (rsa (n #00#) (e #03#)))', 'guix-key-bad', parseGuixPublicKey],
      [publicText, 'guix-key-bad', parseGuixSecretKey],
      [`(private-key (ecc (curve Ed25519) (q ${q})))`, 'guix-key-bad', parseGuixSecretKey],
      [`(private-key (ecc (curve Ed25519) (q ${q}) (d #01#)))`, 'guix-key-bad', parseGuixSecretKey],
      ['(private-key (ecc (curve Ed25519) (d #00#)))', 'guix-key-bad', parseGuixSecretKey],
      [`(private-key (ecc (curve Ed25519) (q ${q}) (d ${d})`, 'guix-sexp-syntax', parseGuixSecretKey],
    ];
    for (const [text, code, parse] of cases)
      expect(() => parse(text), text).toThrow(expect.objectContaining({ code }));
    // Both the canonical form and a 0x40-prefixed q are read, as libgcrypt reads them.
    const prefixed = parseGuixPublicKey(`(public-key (ecc (curve Ed25519) (q #40${q.slice(1, -1)}#)))`);
    expect(verifyGuixNarInfo(signGuixNarInfo(guixInfos[0]!, secret, 'h'), [prefixed]).valid).toBe(true);
    const canonical = Buffer.concat([
      Buffer.from('(11:private-key(3:ecc(5:curve7:Ed25519)(1:d32:'),
      Buffer.from(d.slice(1, -1), 'hex'),
      Buffer.from(')))'),
    ]);
    expect(parseGuixSecretKey(canonical).publicKey.q).toEqual(secret.publicKey.q);
  });
});
