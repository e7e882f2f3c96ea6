// Build logs: live appends readable as they arrive, sealing into a compressed
// object that the real gzip/zstd programs read, and recovery after a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { collect, decompressWithProgram } from '../test-support/bytes.js';
import { filesUnder } from '../test-support/upload-fixtures.js';
import { createDataDirStorage } from './data-dir-storage.js';
import { createLogStore } from './log-store.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-logs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const lines = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `building step ${from + i}\n`).join('');

describe('log store', () => {
  it('serves a live log as it grows, then seals it compressed', async () => {
    const root = join(work, `r${n++}`);
    const storage = await createDataDirStorage(root);
    const logs = await createLogStore({ storage });
    expect(await logs.read('b1/0')).toBeNull();
    expect(await logs.append('b1/0', Buffer.from(lines(0, 10)))).toBe(lines(0, 10).length);
    const early = (await logs.read('b1/0'))!;
    expect(early.live).toBe(true);
    expect((await collect(early.stream)).toString()).toBe(lines(0, 10));
    async function* more(): AsyncGenerator<Uint8Array> {
      for (let i = 10; i < 5000; i += 100) yield Buffer.from(lines(i, i + 100));
    }
    await logs.append('b1/0', more());
    const tail = (await logs.read('b1/0', lines(0, 10).length))!;
    expect((await collect(tail.stream)).toString()).toBe(lines(10, 5010));
    expect(await logs.readStored('b1/0')).toBeNull();

    const sealed = await logs.seal('b1/0');
    expect(sealed.key).toBe('b1/0.gz');
    expect(sealed.size).toBeLessThan(lines(0, 5010).length / 4);
    const stored = (await logs.readStored('b1/0'))!;
    expect(stored.compression).toBe('gzip');
    expect(decompressWithProgram('gzip', await collect(stored.stream)).toString()).toBe(lines(0, 5010));
    const after = (await logs.read('b1/0'))!;
    expect(after.live).toBe(false);
    expect((await collect(after.stream)).toString()).toBe(lines(0, 5010));
    expect((await collect((await logs.read('b1/0', 100))!.stream)).toString()).toBe(
      lines(0, 5010).slice(100),
    );
    expect(filesUnder(root)).toEqual(['log/b1/0.gz']);
  });

  it('refuses appends after sealing; sealing twice is harmless; an unknown log cannot be sealed', async () => {
    const logs = await createLogStore({ storage: await createDataDirStorage(join(work, `r${n++}`)) });
    await logs.append('b2/0', Buffer.from('done\n'));
    const first = await logs.seal('b2/0');
    expect((await logs.seal('b2/0')).size).toBe(first.size);
    const error = await logs.append('b2/0', Buffer.from('late\n')).catch((e: unknown) => e);
    expect((error as StorageError).code).toBe('log-sealed');
    expect(((await logs.seal('b3/0').catch((e: unknown) => e)) as StorageError).code).toBe('not-found');
  });

  it('refuses appends past the size limit, keeping what fit', async () => {
    const logs = await createLogStore({
      storage: await createDataDirStorage(join(work, `r${n++}`)),
      maxLogSize: 1000,
    });
    await logs.append('b6/0', Buffer.alloc(600, 0x61));
    async function* more(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(300, 0x62);
      yield Buffer.alloc(300, 0x63);
    }
    const error = await logs.append('b6/0', more()).catch((e: unknown) => e);
    expect((error as StorageError).code).toBe('too-large');
    expect((await collect((await logs.read('b6/0'))!.stream)).toString()).toBe(
      'a'.repeat(600) + 'b'.repeat(300),
    );
  });

  it('an append whose body breaks off is interrupted, keeping what arrived', async () => {
    const logs = await createLogStore({ storage: await createDataDirStorage(join(work, `r${n++}`)) });
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first line\n');
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    const error = await logs.append('b7/0', broken()).catch((e: unknown) => e);
    expect((error as StorageError).code).toBe('interrupted');
    await logs.append('b7/0', Buffer.from('second line\n'));
    expect((await collect((await logs.read('b7/0'))!.stream)).toString()).toBe('first line\nsecond line\n');
  });

  it('keeps concurrent appends to one log whole and in call order, and logs apart', async () => {
    const logs = await createLogStore({ storage: await createDataDirStorage(join(work, `r${n++}`)) });
    const parts = Array.from({ length: 50 }, (_, i) => lines(i * 10, i * 10 + 10));
    await Promise.all(
      parts.flatMap((p, i) => [
        logs.append('b4/0', Buffer.from(p)),
        logs.append(`b4/${1 + (i % 2)}`, Buffer.from(p)),
      ]),
    );
    expect((await collect((await logs.read('b4/0'))!.stream)).toString()).toBe(parts.join(''));
    expect((await collect((await logs.read('b4/1'))!.stream)).toString()).toBe(
      parts.filter((_, i) => i % 2 === 0).join(''),
    );
  });

  it('appends at an offset: skips the bytes it holds, refuses a gap, and keeps the size limit', async () => {
    const logs = await createLogStore({
      storage: await createDataDirStorage(join(work, `r${n++}`)),
      maxLogSize: 40,
    });
    expect(await logs.length('b8/0')).toEqual({ bytes: 0, sealed: false });
    expect(await logs.append('b8/0', Buffer.from('one\ntwo\n'), { offset: 0 })).toBe(8);
    async function* resent(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('on'); // bytes 0..2 of the log: skipped
      yield Buffer.from('e\ntwo\nthr'); // split across the held length
      yield Buffer.from('ee\n');
    }
    expect(await logs.append('b8/0', resent(), { offset: 0 })).toBe(14);
    expect(await logs.append('b8/0', Buffer.from('two\n'), { offset: 4 })).toBe(14); // wholly held: nothing added
    const gap = (await logs
      .append('b8/0', Buffer.from('five\n'), { offset: 20 })
      .catch((e: unknown) => e)) as StorageError;
    expect(gap).toMatchObject({ code: 'offset-mismatch', received: 14 });
    expect(await logs.length('b8/0')).toEqual({ bytes: 14, sealed: false });
    const big = (await logs
      .append('b8/0', Buffer.alloc(40, 0x61), { offset: 10 })
      .catch((e: unknown) => e)) as StorageError;
    expect(big.code).toBe('too-large');
    expect((await collect((await logs.read('b8/0'))!.stream)).toString()).toBe('one\ntwo\nthree\n');
    await logs.seal('b8/0');
    expect(await logs.length('b8/0')).toEqual({ bytes: 14, sealed: true });
  });

  it('continues a live log after a restart and seals with zstd when configured', async () => {
    const root = join(work, `r${n++}`);
    const first = await createLogStore({ storage: await createDataDirStorage(root), compression: 'zstd' });
    await first.append('b5/0', Buffer.from(lines(0, 100)));
    const second = await createLogStore({ storage: await createDataDirStorage(root), compression: 'zstd' });
    await second.append('b5/0', Buffer.from(lines(100, 200)));
    expect((await second.seal('b5/0')).key).toBe('b5/0.zst');
    const stored = (await second.readStored('b5/0'))!;
    expect(decompressWithProgram('zstd', await collect(stored.stream)).toString()).toBe(lines(0, 200));
    expect(filesUnder(root)).toEqual(['log/b5/0.zst']);
  });
});
