import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ByteReader, encodeBytes, encodeU64 } from '../wire/index.js';
import { NarError } from './errors.js';
import { copyNar } from './nar-copy.js';
import { makeTrickyTree, nixDump, tempDir } from './nar-test-support.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
const root = join(tmp.path, 'tree');
makeTrickyTree(root);
const nar = nixDump(root);

/** Splits bytes into chunks of the given sizes (cycled), as a socket would. */
function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('copyNar', () => {
  it('consumes exactly one NAR, yields its exact bytes and leaves the reader after it', async () => {
    const after = Buffer.concat([encodeU64(0x4558494e), encodeBytes('/nix/store/x')]);
    const reader = new ByteReader(chunked(Buffer.concat([nar, after]), [1 << 16, 3, 100_000]));
    const parts: Uint8Array[] = [];
    for await (const part of copyNar(reader)) parts.push(part);
    expect(Buffer.concat(parts).equals(nar)).toBe(true);
    expect(reader.offset).toBe(nar.length);
    expect(await reader.readU64()).toBe(0x4558494e);
    expect(await reader.readString(100)).toBe('/nix/store/x');
  });

  it('reproduces any NAR across any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 6 }),
        async (sizes) => {
          const parts: Uint8Array[] = [];
          for await (const part of copyNar(chunked(nar, sizes))) parts.push(part);
          expect(Buffer.concat(parts).equals(nar)).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('refuses a broken NAR inside a longer stream', async () => {
    const bad = Buffer.from(nar);
    bad.write('nix-archive-2', 8, 'latin1');
    const run = async () => {
      for await (const _ of copyNar(new ByteReader([bad]))) void _;
    };
    await expect(run()).rejects.toBeInstanceOf(NarError);
    await expect(run()).rejects.toMatchObject({ code: 'bad-magic', offset: 0 });
  });

  it('refuses trailing bytes when told the NAR is the whole input', async () => {
    const run = async () => {
      for await (const _ of copyNar([nar, new Uint8Array(8)], { wholeInput: true })) void _;
    };
    await expect(run()).rejects.toMatchObject({ code: 'trailing-data', offset: nar.length });
  });
});
