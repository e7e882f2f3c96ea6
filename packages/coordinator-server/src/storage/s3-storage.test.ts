// The object-store Storage over real HTTP through the AWS SDK, against the S3
// server of the environment or an s3rver the suite starts (testing/s3-target.ts):
// objects appear whole under their keys, ranges, listing, deletion, presigned
// URLs, a broken stream that leaves nothing, and a clear error for a bucket
// that is not there.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { collect } from '../test-support/bytes.js';
import { createS3Storage, type S3Storage } from './s3-storage.js';
import { startS3Target, type S3TestTarget } from './testing/s3-target.js';

let target: S3TestTarget;
const work = mkdtempSync(join(tmpdir(), 'gbc-s3-storage-'));
const opened: S3Storage[] = [];

beforeAll(async () => {
  target = await startS3Target();
});

afterAll(async () => {
  for (const s of opened) s.close();
  await target.stop();
  rmSync(work, { recursive: true, force: true });
});

async function fresh(url = target.url()): Promise<S3Storage> {
  const storage = await createS3Storage({
    url,
    scratchDir: join(work, `scratch-${opened.length}`),
    credentials: target.credentials,
  });
  opened.push(storage);
  return storage;
}

async function* pieces(data: Buffer, size: number, failAt?: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += size) {
    if (failAt !== undefined && at >= failAt) throw new Error('source broke off');
    yield data.subarray(at, at + size);
  }
}

describe('S3 storage', () => {
  it('stores, stats, reads (whole and ranges), lists and deletes objects by area and key', async () => {
    const s = await fresh();
    const data = Buffer.from('0123456789abcdefghij');
    const stored = await s.put('nar', 'zstd/abc/x-1', data);
    expect(stored).toMatchObject({ area: 'nar', key: 'zstd/abc/x-1', size: 20 });
    await s.put('log', 'b/1.gz', Buffer.from('log'));
    expect(await collect((await s.get('nar', 'zstd/abc/x-1'))!)).toEqual(data);
    expect((await collect((await s.get('nar', 'zstd/abc/x-1', { start: 5, end: 9 }))!)).toString()).toBe(
      '5678',
    );
    expect((await collect((await s.get('nar', 'zstd/abc/x-1', { start: 15 }))!)).toString()).toBe('fghij');
    expect(await collect((await s.get('nar', 'zstd/abc/x-1', { start: 20 }))!)).toHaveLength(0);
    expect(await s.get('nar', 'zstd/abc/absent')).toBeNull();
    expect(await s.get('log', 'zstd/abc/x-1')).toBeNull(); // areas are separate
    expect((await s.stat('log', 'b/1.gz'))?.size).toBe(3);
    const listed: string[] = [];
    for await (const o of s.list('nar')) listed.push(o.key);
    expect(listed).toEqual(['zstd/abc/x-1']);
    const logs: string[] = [];
    for await (const o of s.list('log', 'b/')) logs.push(o.key);
    expect(logs).toEqual(['b/1.gz']);
    expect(await s.delete('nar', 'zstd/abc/x-1')).toBe(true);
    expect(await s.delete('nar', 'zstd/abc/x-1')).toBe(false);
    expect(await s.stat('nar', 'zstd/abc/x-1')).toBeNull();
  });

  it('streams a source of several parts into one object, and a source that breaks off leaves nothing', async () => {
    const s = await fresh();
    const data = Buffer.alloc(11 * 2 ** 20 + 123);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    await s.put('nar', 'big', pieces(data, 1 << 20));
    // Buffer.equals: a deep toEqual over megabytes takes minutes.
    expect((await collect((await s.get('nar', 'big'))!)).equals(data)).toBe(true);
    await expect(s.put('nar', 'broken', pieces(data, 1 << 20, 9 * 2 ** 20))).rejects.toThrow(/broke off/);
    expect(await s.stat('nar', 'broken')).toBeNull();
    expect(await target.pendingUploads(`${s.location.prefix}/`)).toBe(0);
  });

  it('moves a local file in with putFile (the file is gone afterwards)', async () => {
    const s = await fresh();
    const { writeFileSync, existsSync } = await import('node:fs');
    const file = join(s.scratchDir, 'tmp', 'f');
    writeFileSync(file, 'file body');
    await s.putFile('log', 'x/2.gz', file);
    expect(existsSync(file)).toBe(false);
    expect((await collect((await s.get('log', 'x/2.gz'))!)).toString()).toBe('file body');
  });

  it('refuses keys that could escape their area', async () => {
    const s = await fresh();
    await expect(s.put('nar', '../x', Buffer.from('x'))).rejects.toThrow(StorageError);
    await expect(s.stat('nar', 'a//b')).rejects.toThrow(/invalid storage key/);
  });

  it('gives presigned URLs that serve the object (only when asked for)', async () => {
    const plain = await fresh();
    await plain.put('nar', 'p', Buffer.from('presigned body'));
    expect(await plain.directUrl!('nar', 'p')).toBeNull();
    const presigning = await fresh(`${target.url()}&presign=60`);
    await presigning.put('nar', 'p', Buffer.from('presigned body'));
    const url = await presigning.directUrl!('nar', 'p');
    const answer = await fetch(url!);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('presigned body');
  });

  it('says clearly when the bucket is not there', async () => {
    const url = target.url().replace(`s3://${target.bucket}/`, 's3://gbc-no-such-bucket-here/');
    await expect(fresh(url)).rejects.toThrow(/cannot open object storage s3:\/\/gbc-no-such-bucket-here/);
  });
});
