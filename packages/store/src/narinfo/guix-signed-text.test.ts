// The Guix signed part: its sha256 is the hash inside each fixture's signature s-expression.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NarInfoError, guixSignedText, parseNarInfo } from './index.js';

const ok = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/narinfo/ok');
const guixFiles = readdirSync(ok).filter((f) => f.startsWith('guix-'));

describe('guixSignedText', () => {
  for (const file of guixFiles) {
    it(`gives the text whose sha256 ok/${file}'s signature names`, () => {
      const info = parseNarInfo(readFileSync(join(ok, file)), { storeDir: '/gnu/store' });
      const sexp = Buffer.from(info.guixSignature!.split(';')[2]!, 'base64').toString('utf8');
      const signedHash = /\(hash sha256 #([0-9A-F]{64})#\)/.exec(sexp)?.[1];
      const text = guixSignedText(info);
      expect(text.startsWith('StorePath: ')).toBe(true);
      expect(createHash('sha256').update(text).digest('hex').toUpperCase()).toBe(signedHash);
    });
  }

  it('refuses a Nix narinfo', () => {
    const info = parseNarInfo(readFileSync(join(ok, 'nix-xz.narinfo')), { storeDir: '/nix/store' });
    expect(() => guixSignedText(info)).toThrow(NarInfoError);
  });
});
