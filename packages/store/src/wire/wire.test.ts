import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../errors.js';
import { ByteReader } from './byte-reader.js';
import { encodeBytes, encodeStringList, encodeU64 } from './byte-writer.js';

/** Splits bytes into chunks of random sizes, as a socket would deliver them. */
function chunked(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % Math.max(1, sizes.length)] ?? 1);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('wire framing', () => {
  it('round-trips integers and strings across any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 }),
        async (strings, n, sizes) => {
          const bytes = Buffer.concat([encodeU64(n), encodeStringList(strings)]);
          const reader = new ByteReader(chunked(bytes, sizes));
          expect(await reader.readU64()).toBe(n);
          expect(await reader.readU64()).toBe(strings.length);
          for (const s of strings) expect(Buffer.from(await reader.readBytes(1000))).toEqual(Buffer.from(s));
          expect(await reader.atEnd()).toBe(true);
          expect(reader.offset).toBe(bytes.length);
        },
      ),
    );
  });

  it('refuses truncation, non-zero padding, long strings and unsafe integers', async () => {
    const s = encodeBytes('abc');
    await expect(new ByteReader([s.subarray(0, 10)]).readBytes(100)).rejects.toMatchObject({
      code: 'truncated',
    });
    const bad = Uint8Array.from(s);
    bad[12] = 1;
    await expect(new ByteReader([bad]).readBytes(100)).rejects.toMatchObject({ code: 'nonzero-padding' });
    await expect(new ByteReader([s]).readBytes(2)).rejects.toMatchObject({ code: 'string-too-long' });
    const huge = new Uint8Array(8).fill(0xff);
    await expect(new ByteReader([huge]).readU64()).rejects.toBeInstanceOf(WireError);
  });

  it('streams large contents without copying', async () => {
    const big = new Uint8Array(3 << 20).fill(7);
    const reader = new ByteReader([big.subarray(0, 1 << 20), big.subarray(1 << 20)]);
    let total = 0;
    for await (const part of reader.readStream(big.length)) total += part.length;
    expect(total).toBe(big.length);
  });
});

describe('ByteReader.readBuffered', () => {
  it('takes bytes only when the current chunk holds them all', async () => {
    const reader = new ByteReader([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)]);
    expect(reader.readBuffered(1)).toBeUndefined(); // nothing fetched yet
    expect(Array.from(await reader.readExact(1))).toEqual([1]);
    expect(Array.from(reader.readBuffered(2) ?? [])).toEqual([2, 3]);
    expect(reader.readBuffered(1)).toBeUndefined();
    expect(reader.offset).toBe(3);
    expect(Array.from(await reader.readExact(2))).toEqual([4, 5]);
    expect(await reader.atEnd()).toBe(true);
  });
});
