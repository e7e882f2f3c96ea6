// Fixture files: every ok/ narinfo (written by Nix, or in guix publish's
// layouts) round-trips byte for byte; every bad/ one is refused with the code
// its name starts with.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatHash, parseHash } from '../hash/index.js';
import { parsePublicKey, parseSecretKey, signNarInfo, verifyNarInfo } from '../signature/index.js';
import { NarInfoError, parseNarInfo, writeNarInfo } from './index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/narinfo');
const list = (dir: string): string[] =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.narinfo'))
    .sort();
const storeDirOf = (file: string): string => (file.includes('guix') ? '/gnu/store' : '/nix/store');
const secret = parseSecretKey(readFileSync(join(root, 'test-key-1.secret'), 'utf8'));
const publicKey = parsePublicKey(readFileSync(join(root, 'test-key-1.public'), 'utf8'));

describe('narinfo fixtures', () => {
  it('has fixtures of both flavours to test', () => {
    expect(list('ok').filter((f) => f.startsWith('nix-')).length).toBeGreaterThanOrEqual(4);
    expect(list('ok').filter((f) => f.startsWith('guix-')).length).toBeGreaterThanOrEqual(4);
    expect(list('bad').length).toBeGreaterThanOrEqual(20);
  });

  for (const file of list('ok')) {
    it(`round-trips ok/${file} byte for byte`, () => {
      const bytes = readFileSync(join(root, 'ok', file));
      const info = parseNarInfo(bytes, { storeDir: storeDirOf(file) });
      expect(Buffer.from(writeNarInfo(info))).toEqual(bytes);
      const flavour = file.startsWith('nix-')
        ? 'nix'
        : file.startsWith('guix-legacy')
          ? 'guix-legacy'
          : 'guix';
      expect(info.flavour).toBe(flavour);
      expect(info.storePath.startsWith(`${storeDirOf(file)}/`)).toBe(true);
      if (flavour === 'nix') {
        expect(info.files).toHaveLength(1);
      } else {
        expect(info.guixSignature).toMatch(/^1;[^;]+;[A-Za-z0-9+/]+=*$/);
        for (const f of info.files)
          expect(f.url).toBe(
            f.compression === 'none'
              ? `nar/${info.storePath.slice(11)}`
              : `nar/${f.compression}/${info.storePath.slice(11)}`,
          );
      }
    });
  }

  for (const file of list('ok').filter((f) => f.startsWith('nix-'))) {
    it(`verifies and reproduces Nix's signature in ok/${file}`, () => {
      const info = parseNarInfo(readFileSync(join(root, 'ok', file)), { storeDir: '/nix/store' });
      expect(verifyNarInfo(info, [publicKey]).validKeys).toEqual(['test-key-1']);
      // Ed25519 is deterministic: signing afresh gives Nix's exact Sig line.
      expect(signNarInfo({ ...info, sigs: [] }, secret).sigs).toEqual(info.sigs);
      // The fingerprint re-encodes NarHash in Nix base32, whatever the narinfo used.
      const hex = formatHash(parseHash(info.narHash), 'base16');
      expect(verifyNarInfo({ ...info, narHash: hex }, [publicKey]).validKeys).toEqual(['test-key-1']);
    });
  }

  for (const file of list('bad')) {
    const code = file.slice(0, file.indexOf('.'));
    it(`refuses bad/${file} with ${code}`, () => {
      const bytes = readFileSync(join(root, 'bad', file));
      let caught: unknown;
      try {
        parseNarInfo(bytes, { storeDir: storeDirOf(file) });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(NarInfoError);
      expect((caught as NarInfoError).code).toBe(code);
    });
  }
});
