// nix-cache-info: what Nix and guix publish write round-trips; malformed files are refused.
import { describe, expect, it } from 'vitest';
import { NarInfoError, parseNixCacheInfo, writeNixCacheInfo } from './index.js';

describe('nix-cache-info', () => {
  it("round-trips Nix's and guix publish's files", () => {
    const nixText = 'StoreDir: /nix/store\n';
    const guixText = 'StoreDir: /gnu/store\nWantMassQuery: 0\nPriority: 100\n';
    const cacheNixos = 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n';
    expect(parseNixCacheInfo(guixText)).toEqual({
      storeDir: '/gnu/store',
      wantMassQuery: false,
      priority: 100,
    });
    expect(parseNixCacheInfo(nixText)).toEqual({ storeDir: '/nix/store' });
    for (const text of [nixText, guixText, cacheNixos])
      expect(writeNixCacheInfo(parseNixCacheInfo(text))).toBe(text);
  });

  it('refuses malformed files with the right code', () => {
    const cases: [string, string][] = [
      ['WantMassQuery: 1\n', 'narinfo-missing-field'],
      ['StoreDir: /nix/store\nStoreDir: /gnu/store\n', 'narinfo-duplicate-field'],
      ['StoreDir: /nix/store\nWantMassQuery: yes\n', 'narinfo-bad-value'],
      ['StoreDir: nix/store\n', 'narinfo-bad-value'],
      ['StoreDir: /nix/store/\n', 'narinfo-bad-value'],
      ['StoreDir: /nix/store\nPriority: -1\n', 'narinfo-bad-size'],
      ['StoreDir: /nix/store\nColour: blue\n', 'narinfo-unknown-field'],
      ['StoreDir: /nix/store', 'narinfo-syntax'],
      ['StoreDir: /nix/store\n\n', 'narinfo-syntax'],
    ];
    for (const [text, code] of cases) {
      expect(() => parseNixCacheInfo(text), text).toThrow(NarInfoError);
      try {
        parseNixCacheInfo(text);
      } catch (error) {
        expect((error as NarInfoError).code, text).toBe(code);
      }
    }
    expect(() => parseNixCacheInfo(new Uint8Array([0x53, 0xff, 0x0a]))).toThrow(/not valid UTF-8/);
  });
});
