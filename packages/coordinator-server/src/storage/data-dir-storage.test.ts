// The data-directory Storage: streaming put/get with ranges, stat, delete,
// list, key checks, and atomicity: a failed write never shows under its key.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { collect } from '../test-support/bytes.js';
import { bodyOf, filesUnder } from '../test-support/upload-fixtures.js';
import { createDataDirStorage } from './data-dir-storage.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-datadir-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const fresh = () => createDataDirStorage(join(work, `d${n++}`));
const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff));

describe('data-directory storage', () => {
  it('creates its directories 0700 whatever the umask', async () => {
    const old = process.umask(0);
    try {
      const root = join(work, `private-${n++}`);
      await createDataDirStorage(root);
      for (const d of ['', 'nar', 'log', 'scratch', 'scratch/tmp'])
        expect(statSync(join(root, d)).mode & 0o777, d).toBe(0o700);
    } finally {
      process.umask(old);
    }
  });

  it('stores a stream and reads it back whole and by range', async () => {
    const storage = await fresh();
    const stored = await storage.put('nar', 'zstd/abc-hello', bodyOf(data, 7000));
    expect(stored).toMatchObject({ area: 'nar', key: 'zstd/abc-hello', size: data.length });
    expect((await collect((await storage.get('nar', 'zstd/abc-hello'))!)).equals(data)).toBe(true);
    const part = await collect((await storage.get('nar', 'zstd/abc-hello', { start: 1000, end: 5000 }))!);
    expect(part.equals(data.subarray(1000, 5000))).toBe(true);
    const tail = await collect((await storage.get('nar', 'zstd/abc-hello', { start: 299_990 }))!);
    expect(tail.equals(data.subarray(299_990))).toBe(true);
  });

  it('keeps areas apart and answers absent objects with null/false', async () => {
    const storage = await fresh();
    await storage.put('log', 'build-1/0.gz', Buffer.from('log'));
    expect(await storage.stat('nar', 'build-1/0.gz')).toBeNull();
    expect(await storage.get('nar', 'nope')).toBeNull();
    expect(await storage.delete('nar', 'nope')).toBe(false);
    expect(await storage.delete('log', 'build-1/0.gz')).toBe(true);
    expect(await storage.stat('log', 'build-1/0.gz')).toBeNull();
  });

  it('lists by prefix', async () => {
    const storage = await fresh();
    for (const key of ['zstd/a', 'zstd/b', 'gzip/a', 'none/c'])
      await storage.put('nar', key, Buffer.from(key));
    const keys: string[] = [];
    for await (const o of storage.list('nar', 'zstd/')) keys.push(o.key);
    expect(keys.sort()).toEqual(['zstd/a', 'zstd/b']);
    let all = 0;
    for await (const o of storage.list('nar')) all += o.size;
    expect(all).toBe(6 + 6 + 6 + 6);
  });

  it('refuses keys that could escape or hide', async () => {
    const storage = await fresh();
    for (const key of ['../x', 'a/../../x', '/abs', '.hidden', 'a//b', '', 'a/.tmp-x', 'sp ace']) {
      const error = await storage.put('nar', key, Buffer.from('x')).catch((e: unknown) => e);
      expect(error, key).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('invalid-key');
    }
  });

  it('a write that fails midway leaves nothing, and keeps the previous object intact', async () => {
    const root = join(work, 'atomic');
    const storage = await createDataDirStorage(root);
    await storage.put('nar', 'gzip/keep', Buffer.from('old contents'));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 100_000);
      throw new Error('connection reset');
    }
    await expect(storage.put('nar', 'gzip/new', failing())).rejects.toThrow();
    await expect(storage.put('nar', 'gzip/keep', failing())).rejects.toThrow();
    expect(filesUnder(root)).toEqual(['nar/gzip/keep']);
    expect((await collect((await storage.get('nar', 'gzip/keep'))!)).toString()).toBe('old contents');
  });

  it('moves a finished scratch file into place, and sweeps temporary files of a crash on open', async () => {
    const root = join(work, 'scratch');
    const storage = await createDataDirStorage(root);
    const local = join(storage.scratchDir, 'finished');
    writeFileSync(local, data);
    expect((await storage.putFile('nar', 'none/x', local)).size).toBe(data.length);
    writeFileSync(join(storage.scratchDir, 'tmp', '.tmp-crashed-write'), 'half');
    await createDataDirStorage(root);
    expect(filesUnder(root)).toEqual(['nar/none/x']);
  });
});
