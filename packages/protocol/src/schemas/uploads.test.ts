// NAR upload metadata survives the trip through headers, and bad header values are refused by name.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeUploadHeaders, parseUploadHeaders, uploadHeaders } from './uploads.js';

const nix32 = fc.constantFrom(...'0123456789abcdfghijklmnpqrsvwxyz'.split(''));
const hashPart = (n: number) => fc.array(nix32, { minLength: n, maxLength: n }).map((a) => a.join(''));
const baseName = fc
  .tuple(hashPart(32), fc.stringMatching(/^[a-z0-9][a-z0-9.+_-]{0,20}$/))
  .map(([h, n]) => `${h}-${n}`);

describe('upload headers', () => {
  it('round-trip any metadata', () => {
    fc.assert(
      fc.property(
        fc.record({
          compression: fc.constantFrom('none', 'gzip', 'lzip', 'zstd' as const),
          narHash: hashPart(52).map((h) => `sha256:${h}`),
          narSize: fc.maxSafeNat(),
          references: fc.array(baseName, { maxLength: 5 }),
          deriver: fc.option(baseName, { nil: undefined }),
        }),
        (meta) => {
          const headers = encodeUploadHeaders(meta);
          const parsed = parseUploadHeaders((n) => headers[n]);
          expect(parsed.success && parsed.data).toEqual(
            meta.deriver === undefined ? { ...meta, deriver: undefined } : meta,
          );
        },
      ),
    );
  });

  it('refuses a missing hash, a non-decimal size and a bad reference, naming the field', () => {
    const good = encodeUploadHeaders({ narHash: `sha256:${'0'.repeat(52)}`, narSize: 5, references: [] });
    const bad = (over: Record<string, string>) => {
      const h: Record<string, string> = { ...good, ...over };
      const r = parseUploadHeaders((n) => h[n]);
      return r.success ? '' : r.error.issues.map((i) => i.path.join('.')).join(',');
    };
    expect(bad({})).toBe('');
    expect(bad({ [uploadHeaders.narHash]: 'md5:abc' })).toBe('narHash');
    expect(bad({ [uploadHeaders.narSize]: '0x10' })).toBe('narSize');
    expect(bad({ [uploadHeaders.narSize]: '-1' })).toBe('narSize');
    expect(bad({ [uploadHeaders.references]: '/nix/store/abs' })).toBe('references.0');
    expect(bad({ [uploadHeaders.compression]: 'bzip2' })).toBe('compression');
  });
});
