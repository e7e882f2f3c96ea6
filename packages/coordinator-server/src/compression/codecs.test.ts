// Round trips of every codec with real data, against the real programs' own
// output in both directions, and typed errors for corrupt or truncated input.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CompressionError } from '../errors.js';
import { collect, compressWithProgram, decompressWithProgram, makeNar } from '../test-support/bytes.js';
import { createCompressor, createDecompressor, createPartialGunzip } from './codecs.js';
import { parseCompression, type Compression } from './compression.js';

const dir = mkdtempSync(join(tmpdir(), 'gbc-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const nar = makeNar(dir);

/** Pushes `data` through `stream` in uneven chunks and collects the output. */
async function run(stream: NodeJS.ReadWriteStream & Readable, data: Uint8Array): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for (let at = 0, n = 1; at < data.length; at += n, n = (n * 7 + 13) % 100_000)
    chunks.push(data.subarray(at, at + n));
  const out: Buffer[] = [];
  await pipeline(Readable.from(chunks), stream, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) out.push(c);
  });
  return Buffer.concat(out);
}

async function refusal(
  stream: NodeJS.ReadWriteStream & Readable,
  data: Uint8Array,
): Promise<CompressionError> {
  const error: unknown = await run(stream, data).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CompressionError);
  return error as CompressionError;
}

const programs = ['gzip', 'zstd', 'lzip'] as const;

describe('codecs', () => {
  it('parses compression names and refuses others', () => {
    expect(parseCompression('ZSTD')).toBe('zstd');
    expect(() => parseCompression('bzip2')).toThrow(expect.objectContaining({ code: 'unknown-compression' }));
  });

  it.each(['none', ...programs] as Compression[])('%s round-trips a real NAR byte for byte', async (c) => {
    const packed = await run(createCompressor(c), nar);
    if (c !== 'none') expect(packed.length).toBeLessThan(nar.length);
    expect((await run(createDecompressor(c), packed)).equals(nar)).toBe(true);
  });

  it.each(programs)(
    '%s: our output is what the program decodes, and we decode the program output',
    async (p) => {
      const ours = await run(createCompressor(p), nar);
      expect(decompressWithProgram(p, ours).equals(nar)).toBe(true);
      const theirs = compressWithProgram(p, nar);
      expect((await run(createDecompressor(p), theirs)).equals(nar)).toBe(true);
    },
  );

  it.each(programs)('%s: corrupt input is a corrupt-compression error', async (p) => {
    const packed = compressWithProgram(p, nar);
    const bad = Buffer.from(packed);
    for (let i = Math.floor(bad.length / 3); i < bad.length / 3 + 64; i++) bad[i] = bad[i]! ^ 0x5a;
    expect((await refusal(createDecompressor(p), bad)).code).toBe('corrupt-compression');
    expect((await refusal(createDecompressor(p), Buffer.from('not compressed at all'))).code).toBe(
      'corrupt-compression',
    );
  });

  it.each(programs)('%s: truncated input is a corrupt-compression error', async (p) => {
    const packed = compressWithProgram(p, nar);
    const cut = packed.subarray(0, packed.length - 7);
    expect((await refusal(createDecompressor(p), cut)).code).toBe('corrupt-compression');
  });

  it.each(programs)('%s: bytes after the compressed stream are a corrupt-compression error', async (p) => {
    const trailing = Buffer.concat([compressWithProgram(p, nar), Buffer.from('trailing garbage\n')]);
    expect((await refusal(createDecompressor(p), trailing)).code).toBe('corrupt-compression');
  });

  it.each(programs)('%s: concatenated streams decode to the concatenation', async (p) => {
    const two = Buffer.concat([compressWithProgram(p, nar), compressWithProgram(p, Buffer.from('tail'))]);
    expect((await run(createDecompressor(p), two)).equals(Buffer.concat([nar, Buffer.from('tail')]))).toBe(
      true,
    );
  });

  it('a partial gunzip decodes a gzip stream that has not ended yet', async () => {
    const gzip = createGzip();
    const text = Buffer.from('line one\nline two\n');
    const flushed = new Promise<Buffer>((resolve) => {
      const got: Buffer[] = [];
      gzip.on('data', (c: Buffer) => got.push(c));
      gzip.write(text, () => gzip.flush(() => resolve(Buffer.concat(got))));
    });
    const head = await flushed;
    expect((await collect(Readable.from([head]).pipe(createPartialGunzip()))).toString()).toBe(
      text.toString(),
    );
    gzip.destroy();
  });
});
