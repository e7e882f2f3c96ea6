// Compressors and decompressors with the real programs: round trips of random data.
import { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UPLOAD_COMPRESSIONS, createCompressor, createDecompressor } from './compression.js';
import { isAgentError } from './errors.js';

async function through(stream: Duplex, data: Uint8Array): Promise<Buffer> {
  const [out] = await Promise.all([buffer(stream), pipeline(Readable.from([data]), stream)]);
  return out;
}

describe('upload compression', () => {
  for (const c of UPLOAD_COMPRESSIONS) {
    it(`${c}: decompressing what was compressed gives the bytes back`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), async (data) => {
          const packed = await through(createCompressor(c), data);
          const unpacked = await through(createDecompressor(c), packed);
          expect(Buffer.compare(unpacked, Buffer.from(data))).toBe(0);
        }),
        { numRuns: c === 'none' || c === 'gzip' ? 50 : 8 },
      );
    });
  }

  it('zstd makes repetitive data smaller', async () => {
    const data = new Uint8Array(100_000).fill(7);
    expect((await through(createCompressor('zstd'), data)).length).toBeLessThan(1000);
  });

  it('refuses an unknown compression with a typed error', () => {
    let error: unknown;
    try {
      createDecompressor('rar');
    } catch (e) {
      error = e;
    }
    expect(isAgentError(error, 'bad-compression')).toBe(true);
  });
});
