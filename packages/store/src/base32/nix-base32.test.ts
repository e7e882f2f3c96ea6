import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodingError } from '../errors.js';
import { decodeNix32, encodeNix32, nix32Length } from './nix-base32.js';

describe('Nix base32', () => {
  it('encodes a sha256 digest like nix-hash does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gbc-b32-'));
    try {
      for (const text of ['', 'hello\n', 'The quick brown fox']) {
        const file = join(dir, 'f');
        writeFileSync(file, text);
        const hex = createHash('sha256').update(text).digest('hex');
        const nix = execFileSync('nix-hash', ['--type', 'sha256', '--to-base32', hex], {
          encoding: 'utf8',
        }).trim();
        expect(encodeNix32(Buffer.from(hex, 'hex'))).toBe(nix);
        expect(Buffer.from(decodeNix32(nix)).toString('hex')).toBe(hex);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has the lengths of ceil(8n/5)', () => {
    expect(nix32Length(32)).toBe(52);
    expect(nix32Length(20)).toBe(32);
    expect(encodeNix32(new Uint8Array(20))).toBe('0'.repeat(32));
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(Buffer.from(decodeNix32(encodeNix32(bytes)))).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('refuses foreign characters, bad lengths and leftover bits', () => {
    expect(() => decodeNix32('e'.repeat(52))).toThrow(EncodingError);
    expect(() => decodeNix32('0'.repeat(51))).toThrow(/impossible length/);
    // 52 characters hold 260 bits for 256: a first character above 'f' sets leftover bits.
    expect(() => decodeNix32(`z${'0'.repeat(51)}`)).toThrow(/leftover bits/);
  });

  it('only ever throws EncodingError on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (text) => {
        try {
          decodeNix32(text);
        } catch (error) {
          expect(error).toBeInstanceOf(EncodingError);
        }
      }),
    );
  });
});
