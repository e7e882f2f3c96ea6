// The writer's layouts and refusals, and the messages parser errors carry.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SignatureError, generateSecretKey, signNarInfo } from '../signature/index.js';
import { NARINFO_CONTENT_TYPE, NarInfoError, parseNarInfo, writeNarInfo } from './index.js';
import type { NarInfo } from './index.js';

const ok = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/narinfo/ok');
const guix = parseNarInfo(readFileSync(join(ok, 'guix-lzip-zstd.narinfo')), { storeDir: '/gnu/store' });
const nix = parseNarInfo(readFileSync(join(ok, 'nix-xz.narinfo')), { storeDir: '/nix/store' });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (error) {
    if (error instanceof NarInfoError || error instanceof SignatureError) return error.code;
    throw error;
  }
  return undefined;
}

describe('writeNarInfo', () => {
  it('puts the URL groups where each flavour has them', () => {
    const keys = (info: NarInfo): string[] =>
      writeNarInfo(info)
        .trimEnd()
        .split('\n')
        .map((l) => l.slice(0, l.indexOf(':')));
    expect(keys(guix)).toEqual([
      'StorePath',
      'NarHash',
      'NarSize',
      'References',
      'Deriver',
      'Signature',
      'URL',
      'Compression',
      'FileSize',
      'URL',
      'Compression',
      'FileSize',
    ]);
    expect(keys({ ...guix, flavour: 'guix-legacy' })).toEqual([
      'StorePath',
      'URL',
      'Compression',
      'FileSize',
      'URL',
      'Compression',
      'FileSize',
      'NarHash',
      'NarSize',
      'References',
      'Deriver',
      'Signature',
    ]);
    expect(
      keys({
        ...nix,
        system: 'x86_64-linux',
        ca: 'fixed:r:sha256:0c352nn05yqy72n62lddnjrz45sxgcn80xmyj3z96b248zfna6i0',
      }),
    ).toEqual([
      'StorePath',
      'URL',
      'Compression',
      'FileHash',
      'FileSize',
      'NarHash',
      'NarSize',
      'References',
      'Deriver',
      'System',
      'Sig',
      'CA',
    ]);
  });

  it('writes an empty References line for an item without references', () => {
    expect(writeNarInfo({ ...nix, references: [] })).toContain('\nReferences: \n');
  });

  it('refuses what no narinfo can hold', () => {
    expect(codeOf(() => writeNarInfo({ ...nix, deriver: 'x\nSig: forged:AAAA' }))).toBe('narinfo-bad-value');
    expect(codeOf(() => writeNarInfo({ ...nix, files: [] }))).toBe('narinfo-layout');
    expect(codeOf(() => writeNarInfo({ ...nix, files: guix.files }))).toBe('narinfo-layout');
    expect(codeOf(() => writeNarInfo({ ...nix, guixSignature: '1;h;AAAA' }))).toBe('narinfo-layout');
    expect(codeOf(() => writeNarInfo({ ...guix, sigs: nix.sigs }))).toBe('narinfo-layout');
    expect(codeOf(() => signNarInfo(guix, generateSecretKey('k')))).toBe('signature-bad-info');
  });

  it('keeps several Nix signatures in byte order, replacing one by the same key', () => {
    const z = generateSecretKey('z-key');
    const a = generateSecretKey('a-key');
    const signed = signNarInfo(signNarInfo(nix, z), a);
    expect(signed.sigs.map((s) => s.slice(0, s.indexOf(':')))).toEqual(['a-key', 'test-key-1', 'z-key']);
    const resigned = signNarInfo(signed, generateSecretKey('z-key'));
    expect(resigned.sigs).toHaveLength(3);
    expect(resigned.sigs[2]).not.toBe(signed.sigs[2]);
    expect(parseNarInfo(writeNarInfo(signed), { storeDir: '/nix/store' }).sigs).toEqual(signed.sigs);
  });

  it('names the content type binary caches serve narinfos with', () => {
    expect(NARINFO_CONTENT_TYPE).toBe('text/x-nix-narinfo');
  });
});

describe('parser errors', () => {
  it('name the field, the line and what was found', () => {
    const text = writeNarInfo(nix).replace(/^NarSize: .*$/m, 'NarSize: 12x');
    let error: unknown;
    try {
      parseNarInfo(text, { storeDir: '/nix/store' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NarInfoError);
    const e = error as NarInfoError;
    expect(e.code).toBe('narinfo-bad-size');
    expect(e.line).toBe(7);
    expect(e.message).toContain('NarSize (line 7)');
    expect(e.message).toContain('"12x"');
  });

  it('refuse a store path under another store directory, naming the expected one', () => {
    expect(() => parseNarInfo(writeNarInfo(nix), { storeDir: '/gnu/store' })).toThrow(/\/gnu\/store/);
  });

  it('accept hashes in base16 and base64 as Nix does, keeping the text', () => {
    const hex = 'sha256:' + '0'.repeat(63) + '1';
    const b64 = 'sha256:' + 'A'.repeat(42) + 'E=';
    for (const narHash of [hex, b64]) {
      expect(parseNarInfo(writeNarInfo({ ...nix, narHash }), { storeDir: '/nix/store' }).narHash).toBe(
        narHash,
      );
    }
  });
});
