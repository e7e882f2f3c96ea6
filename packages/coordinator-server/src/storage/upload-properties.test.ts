// Property tests of uploads: how the body is cut into chunks never matters,
// and mutated bytes give only typed refusals with nothing kept, or (when the
// mutation does not change the NAR, e.g. a gzip header field) the right NAR.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { compressWithProgram, makeNar } from '../test-support/bytes.js';
import { filesUnder, narHashOf } from '../test-support/upload-fixtures.js';
import { createDataDirStorage } from './data-dir-storage.js';
import { createNarUploads } from './nar-uploads.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-upload-props-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const nar = makeNar(work, 64 * 1024);
const narHash = narHashOf(nar);
const packed = { none: nar, gzip: compressWithProgram('gzip', nar), zstd: compressWithProgram('zstd', nar) };
let n = 0;

async function fresh() {
  const root = join(work, `p${n++}`);
  const storage = await createDataDirStorage(root);
  return { root, storage, uploads: await createNarUploads({ storage }) };
}

async function* cut(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield data.subarray(at, at + size);
    at += size;
  }
}

describe('upload properties', () => {
  it('any chunking of the body gives the same stored NAR', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'none' | 'gzip' | 'zstd'>('none', 'gzip', 'zstd'),
        fc.array(fc.integer({ min: 256, max: 70_000 }), { minLength: 1, maxLength: 8 }),
        async (c, sizes) => {
          const { uploads } = await fresh();
          const stored = await uploads.receive({
            uploadId: 'u',
            key: `${c}/x`,
            compression: c,
            narHash,
            narSize: nar.length,
            body: cut(packed[c], sizes),
          });
          expect(stored.narHash).toBe(narHash);
          expect(stored.fileSize).toBe(packed[c].length);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('mutated uploads are refused with a typed error and nothing kept, or store the right NAR', async () => {
    const codes = new Set([
      'corrupt-compression',
      'hash-mismatch',
      'size-mismatch',
      'truncated',
      'corrupt-nar',
      'too-large',
    ]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'none' | 'gzip'>('none', 'gzip'),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (c, flips) => {
          const bad = Buffer.from(packed[c]);
          for (const [at, x] of flips) bad[at % bad.length] = bad[at % bad.length]! ^ x;
          const { root, uploads } = await fresh();
          const result = await uploads
            .receive({
              uploadId: 'u',
              key: `${c}/x`,
              compression: c,
              narHash,
              narSize: nar.length,
              body: cut(bad, [8192]),
            })
            .then(
              (stored) => stored,
              (e: unknown) => e,
            );
          if (result instanceof StorageError) {
            expect(codes).toContain(result.code);
            expect(filesUnder(root)).toEqual([]);
          } else {
            expect(result).toMatchObject({ narHash, narSize: nar.length });
            expect(filesUnder(root)).toEqual([`nar/${c}/x`]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a NAR longer or shorter than declared is refused by its own check, whatever the codec and chunking', async () => {
    // Regression: node's pipeline reported its teardown (an AbortError) instead
    // of the size check for about half of the gzip uploads, which became a 500.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'none' | 'gzip' | 'zstd'>('none', 'gzip', 'zstd'),
        fc.constantFrom(-8, -1, 1, 8),
        fc.integer({ min: 512, max: 70_000 }),
        async (c, delta, size) => {
          const { root, uploads } = await fresh();
          const refused = await uploads
            .receive({
              uploadId: 'u',
              key: `${c}/x`,
              compression: c,
              narHash,
              narSize: nar.length + delta,
              body: cut(packed[c], [size]),
            })
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(refused).toBeInstanceOf(StorageError);
          expect((refused as StorageError).code).toBe(delta < 0 ? 'size-mismatch' : 'truncated');
          expect(filesUnder(root)).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
