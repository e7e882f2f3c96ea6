// scanStoreReferences: found wherever chunk boundaries fall, cut back to paths that exist.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanStoreReferences } from './source-references.js';

const storeDir = '/gnu/store';
const a = `${storeDir}/0a3r4w8zdpmgggz8gyxqqn2ngp2lzjr7-guile-3.0.9`;
const b = `${storeDir}/1b6ai4nn4sp5rc5jrml2jhkz5wxf35vy-module-import`;
const existing = new Set([a, b]);
const exists = (p: string) => existing.has(p);

async function* chunks(bytes: Buffer, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((x, y) => x - y)) {
    if (cut > at && cut < bytes.length) {
      yield bytes.subarray(at, cut);
      at = cut;
    }
  }
  yield bytes.subarray(at);
}

describe('scanStoreReferences', () => {
  // Filler longer than the scanner's carried tail, so that cuts make it scan, carry and resume.
  const filler = ' ;'.repeat(400);
  const text = Buffer.from(
    `#!${a}/bin/guile\n${filler}(load "${b}.scm")${filler}\nnot a path: ${storeDir}/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x ${filler}${a}`,
    'latin1',
  );

  it('finds existing store paths, cutting off what follows the name', async () => {
    expect(await scanStoreReferences(chunks(text, []), storeDir, { exists })).toEqual([a, b]);
  });

  it('ignores paths of another store directory and paths that do not exist', async () => {
    const other = Buffer.from(
      `/nix/store/0a3r4w8zdpmgggz8gyxqqn2ngp2lzjr7-guile-3.0.9 ${storeDir}/0a3r4w8zdpmgggz8gyxqqn2ngp2lzjr7-guix`,
    );
    expect(await scanStoreReferences(chunks(other, []), storeDir, { exists })).toEqual([]);
  });

  it('gives the same answer however the stream is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          expect(await scanStoreReferences(chunks(text, cuts), storeDir, { exists })).toEqual([a, b]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
