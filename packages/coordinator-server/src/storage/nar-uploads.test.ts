// Verified uploads of real NARs (nix-store --dump) in every compression: good
// ones stored byte-identical, bad ones refused with nothing left on disk.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeBase16 } from '@gbc/store';
import type { Compression } from '../compression/compression.js';
import { StorageError } from '../errors.js';
import { collect, compressWithProgram, decompressWithProgram, makeNar } from '../test-support/bytes.js';
import { bodyOf, filesUnder, narHashOf } from '../test-support/upload-fixtures.js';
import { createDataDirStorage } from './data-dir-storage.js';
import { createNarUploads, type NarUploads } from './nar-uploads.js';
import type { Storage } from './storage.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-uploads-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const nar = makeNar(work, 512 * 1024);
const narHash = narHashOf(nar);
const packed: Record<Compression, Buffer> = {
  none: nar,
  gzip: compressWithProgram('gzip', nar),
  zstd: compressWithProgram('zstd', nar),
  lzip: compressWithProgram('lzip', nar),
};
const codecs = ['none', 'gzip', 'zstd', 'lzip'] as const;

let root: string;
let storage: Storage;
let uploads: NarUploads;
let n = 0;

async function refusal(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

function request(
  c: Compression,
  body: Uint8Array,
  overrides: Partial<{ narHash: string; narSize: number }> = {},
) {
  return {
    uploadId: `build-1-out-${c}`,
    key: `${c}/abc-hello`,
    compression: c,
    narHash,
    narSize: nar.length,
    body: bodyOf(body),
    ...overrides,
  };
}

// Every check holds on both ways of receiving: in memory (small NARs, the
// default below 1 MiB) and through a partial file.
describe.each([
  ['in memory', 1 << 20],
  ['through a partial file', 0],
])('NAR uploads received %s', (_, inMemoryUpTo) => {
  beforeEach(async () => {
    root = join(work, `data-${n++}`);
    storage = await createDataDirStorage(root);
    uploads = await createNarUploads({ storage, maxNarSize: 16 << 20, inMemoryUpTo });
  });

  it.each(codecs)('%s: a good upload is stored exactly as sent, with its hashes', async (c) => {
    const stored = await uploads.receive(request(c, packed[c]));
    expect(stored).toMatchObject({
      key: `${c}/abc-hello`,
      compression: c,
      narHash,
      narSize: nar.length,
      fileSize: packed[c].length,
    });
    expect(stored.fileHash).toBe(narHashOf(packed[c]));
    const back = await collect((await storage.get('nar', stored.key))!);
    expect(back.equals(packed[c])).toBe(true);
    if (c !== 'none') expect(decompressWithProgram(c, back).equals(nar)).toBe(true);
    expect(filesUnder(root)).toEqual([`nar/${c}/abc-hello`]);
  });

  it('accepts the hash in hex and SRI forms, and a Web ReadableStream body', async () => {
    const digest = createHash('sha256').update(nar).digest();
    await uploads.receive({ ...request('zstd', packed.zstd), narHash: `sha256:${encodeBase16(digest)}` });
    const web = new Blob([packed.gzip]).stream();
    const stored = await uploads.receive({
      ...request('gzip', packed.gzip),
      narHash: `sha256-${digest.toString('base64')}`,
      body: web,
    });
    expect(stored.narHash).toBe(narHash);
  });

  it.each(codecs)('%s: corrupted bytes are refused and nothing is kept', async (c) => {
    const bad = Buffer.from(packed[c]);
    for (let i = bad.length >> 1; i < (bad.length >> 1) + 32; i++) bad[i] = bad[i]! ^ 0xff;
    const error = await refusal(uploads.receive(request(c, bad)));
    expect(error.code).toBe(c === 'none' ? 'hash-mismatch' : 'corrupt-compression');
    expect(filesUnder(root)).toEqual([]);
  });

  it.each(codecs)('%s: a truncated upload is refused and nothing is kept', async (c) => {
    const error = await refusal(uploads.receive(request(c, packed[c].subarray(0, packed[c].length - 100))));
    expect(error.code).toBe(c === 'none' ? 'truncated' : 'corrupt-compression');
    expect(filesUnder(root)).toEqual([]);
  });

  it.each(codecs)('%s: a wrong hash or size is refused and nothing is kept', async (c) => {
    const other = narHashOf(Buffer.from('something else'));
    expect((await refusal(uploads.receive(request(c, packed[c], { narHash: other })))).code).toBe(
      'hash-mismatch',
    );
    expect((await refusal(uploads.receive(request(c, packed[c], { narSize: nar.length - 1 })))).code).toBe(
      'size-mismatch',
    );
    expect((await refusal(uploads.receive(request(c, packed[c], { narSize: nar.length + 8 })))).code).toBe(
      'truncated',
    );
    expect(filesUnder(root)).toEqual([]);
  });

  it('refuses oversized uploads: declared too large, or compressed bytes past the limit', async () => {
    expect((await refusal(uploads.receive(request('none', nar, { narSize: 17 << 20 })))).code).toBe(
      'too-large',
    );
    // Thousands of empty gzip members decode to nothing but make the body huge.
    const empty = compressWithProgram('gzip', new Uint8Array(0));
    const padded = Buffer.concat([...Array.from({ length: 40_000 }, () => empty), packed.gzip]);
    expect((await refusal(uploads.receive(request('gzip', padded)))).code).toBe('too-large');
    expect(filesUnder(root)).toEqual([]);
  });

  it('refuses data that is not a NAR even with a matching hash', async () => {
    const text = Buffer.from('hello, this is not a NAR at all, just text');
    const error = await refusal(
      uploads.receive(request('none', text, { narHash: narHashOf(text), narSize: text.length })),
    );
    expect(error.code).toBe('corrupt-nar');
    expect(filesUnder(root)).toEqual([]);
  });

  it('refuses a well-hashed upload that breaks the NAR format (trailing bytes, cut at a boundary)', async () => {
    const trailing = Buffer.concat([nar, Buffer.alloc(8)]);
    const e1 = await refusal(
      uploads.receive(request('none', trailing, { narHash: narHashOf(trailing), narSize: trailing.length })),
    );
    expect(e1.code).toBe('corrupt-nar');
    expect(e1.message).toContain('trailing-data');
    const cut = nar.subarray(0, 64);
    const e2 = await refusal(
      uploads.receive(request('none', cut, { narHash: narHashOf(cut), narSize: cut.length })),
    );
    expect(e2.code).toBe('truncated');
    expect(filesUnder(root)).toEqual([]);
  });

  it('refuses a malformed hash, key or upload id before reading anything', async () => {
    expect((await refusal(uploads.receive(request('none', nar, { narHash: 'sha256:nope' })))).code).toBe(
      'invalid-hash',
    );
    expect((await refusal(uploads.receive({ ...request('none', nar), key: '../escape' }))).code).toBe(
      'invalid-key',
    );
    expect((await refusal(uploads.receive({ ...request('none', nar), uploadId: '../x' }))).code).toBe(
      'invalid-key',
    );
    expect(filesUnder(root)).toEqual([]);
  });

  it('receives concurrent uploads of different outputs without interference', async () => {
    const nar2 = makeNar(join(work, `second-${n}`), 300 * 1024);
    const jobs = codecs.flatMap((c) => [
      uploads.receive({ ...request(c, packed[c]), uploadId: `b1-${c}`, key: `${c}/one` }),
      uploads.receive({
        uploadId: `b2-${c}`,
        key: `${c}/two`,
        compression: c,
        narHash: narHashOf(nar2),
        narSize: nar2.length,
        body: bodyOf(c === 'none' ? nar2 : compressWithProgram(c, nar2), 10_000),
      }),
    ]);
    const stored = await Promise.all(jobs);
    expect(stored.map((s) => s.narHash)).toEqual(codecs.flatMap(() => [narHash, narHashOf(nar2)]));
    for (const c of codecs) {
      const two = await collect((await storage.get('nar', `${c}/two`))!);
      expect(c === 'none' ? two.equals(nar2) : decompressWithProgram(c, two).equals(nar2)).toBe(true);
    }
    expect(filesUnder(root)).toHaveLength(8);
  });

  it('an upload that breaks off is interrupted, resumable from what was kept', async () => {
    async function* broken() {
      yield packed.zstd.subarray(0, 1000);
      throw new Error('connection reset');
    }
    const error = await refusal(uploads.receive({ ...request('zstd', packed.zstd), body: broken() }));
    expect(error.code).toBe('interrupted');
    expect(error.received).toBe(1000);
    expect((await uploads.status('build-1-out-zstd'))?.received ?? 0).toBe(error.received);
    const offset = error.received ?? 0;
    const stored = await uploads.receive({ ...request('zstd', packed.zstd.subarray(offset)), offset });
    expect(stored.fileSize).toBe(packed.zstd.length);
    expect(filesUnder(root)).toEqual(['nar/zstd/abc-hello']);
  });

  it('an upload started again from byte 0 discards what a broken one kept', async () => {
    async function* broken() {
      yield packed.zstd.subarray(0, 1000);
      throw new Error('connection reset');
    }
    expect((await refusal(uploads.receive({ ...request('zstd', packed.zstd), body: broken() }))).code).toBe(
      'interrupted',
    );
    expect(filesUnder(root).some((f) => f.endsWith('.part'))).toBe(true);
    const stored = await uploads.receive(request('zstd', packed.zstd));
    expect(stored.fileSize).toBe(packed.zstd.length);
    expect(await uploads.status('build-1-out-zstd')).toBeNull();
    expect(filesUnder(root)).toEqual(['nar/zstd/abc-hello']);
  });
});
