// Signing keys: Nix's key-file format both ways, RFC 8032 test vectors, and
// refusal of malformed keys with typed errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nix, tempDir } from './nix-cache-test-support.js';
import {
  SignatureError,
  formatPublicKey,
  formatSecretKey,
  generateSecretKey,
  parsePublicKey,
  parseSecretKey,
  publicKeyOf,
  secretKeyFromSeed,
  signDetached,
  verifyDetached,
} from './index.js';

describe('signing keys', () => {
  it('reads the key files of nix-store --generate-binary-cache-key and writes them back identically', () => {
    const tmp = tempDir('gbc-key-');
    try {
      nix('nix-store', [
        '--generate-binary-cache-key',
        'cache.example.org-1',
        join(tmp.path, 's'),
        join(tmp.path, 'p'),
      ]);
      const secretText = readFileSync(join(tmp.path, 's'), 'utf8');
      const publicText = readFileSync(join(tmp.path, 'p'), 'utf8');
      const secret = parseSecretKey(secretText);
      expect(secret.name).toBe('cache.example.org-1');
      expect(formatSecretKey(secret)).toBe(secretText);
      expect(formatPublicKey(secret)).toBe(publicText);
      expect(formatPublicKey(parsePublicKey(publicText))).toBe(publicText);
    } finally {
      tmp.remove();
    }
  });

  it('signs the RFC 8032 test vector 1 (empty message) exactly', () => {
    const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
    const key = secretKeyFromSeed('rfc', seed);
    expect(Buffer.from(key.publicKey).toString('hex')).toBe(
      'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    );
    const sig = signDetached(key, '');
    expect(Buffer.from(sig.slice(4), 'base64').toString('hex')).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    expect(verifyDetached([publicKeyOf(key)], '', sig)).toBe(true);
  });

  it('verifies only with the right key name, key and text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string(), (seed, text) => {
        const key = secretKeyFromSeed('k-1', seed);
        const sig = signDetached(key, text);
        expect(verifyDetached([publicKeyOf(key)], text, sig)).toBe(true);
        expect(verifyDetached([publicKeyOf(key)], `${text}x`, sig)).toBe(false);
        expect(verifyDetached([publicKeyOf(key)], text, sig.replace('k-1:', 'k-2:'))).toBe(false);
        expect(verifyDetached([publicKeyOf(generateSecretKey('k-1'))], text, sig)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('generates distinct keys that round-trip through their text form', () => {
    const a = generateSecretKey('a-1');
    const b = generateSecretKey('a-1');
    expect(formatSecretKey(a)).not.toBe(formatSecretKey(b));
    expect(formatSecretKey(parseSecretKey(formatSecretKey(a)))).toBe(formatSecretKey(a));
  });

  it('refuses malformed keys with SignatureError', () => {
    const good = formatSecretKey(generateSecretKey('n'));
    const goodPublic = formatPublicKey(generateSecretKey('n'));
    const bad = [
      good.slice(2), // no name left
      `${good}AAAA`, // 67 bytes
      good.slice(0, -4), // 61 bytes
      `${good.slice(0, 2)}!${good.slice(3)}`, // not base64
      goodPublic, // a public key where a secret one is due
      // a secret key whose public half is not its own
      `n:${Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(32, 2)]).toString('base64')}`,
    ];
    for (const text of bad) expect(() => parseSecretKey(text), text).toThrow(SignatureError);
    expect(() => parsePublicKey(good)).toThrow(SignatureError);
    expect(() => parsePublicKey(':' + goodPublic.slice(2))).toThrow(SignatureError);
    expect(() => secretKeyFromSeed('a:b', new Uint8Array(32))).toThrow(SignatureError);
    expect(() => secretKeyFromSeed('a', new Uint8Array(31))).toThrow(SignatureError);
  });

  it('treats malformed signatures as not valid, without throwing', () => {
    const key = generateSecretKey('k');
    for (const sig of [
      '',
      'k',
      'k:',
      'k:AAAA',
      'k:' + 'A'.repeat(88),
      ':' + signDetached(key, 't').slice(2),
    ]) {
      expect(verifyDetached([publicKeyOf(key)], 't', sig)).toBe(false);
    }
  });
});
