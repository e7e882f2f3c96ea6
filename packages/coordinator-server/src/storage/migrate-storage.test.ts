// Migrating a data directory into object storage (the S3 target of
// testing/s3-target.ts): everything arrives verified, a rerun copies nothing,
// an interrupted run resumes, objects found there without a record are read
// back and compared, and a wrong one of the same size is copied again.
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../test-support/bytes.js';
import { createDataDirStorage } from './data-dir-storage.js';
import { migrateStorage, type MigrateProgress } from './migrate-storage.js';
import { createS3Storage, type S3Storage } from './s3-storage.js';
import type { Storage } from './storage.js';
import { startS3Target, type S3TestTarget } from './testing/s3-target.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-migrate-'));
let target: S3TestTarget;
let source: Storage;
const objects = new Map<string, Buffer>(); // "area key" -> bytes
const opened: S3Storage[] = [];

beforeAll(async () => {
  target = await startS3Target();
  source = await createDataDirStorage(join(work, 'data'));
  // Small NARs and logs, and one NAR of two parts (6 MiB).
  for (let i = 0; i < 6; i++) {
    const nar = randomBytes(1000 + i * 5000);
    await source.put('nar', `zstd/h${i}/x${i}-name`, nar);
    objects.set(`nar zstd/h${i}/x${i}-name`, nar);
    const log = Buffer.from(`log of build ${i}\n`.repeat(50 + i));
    await source.put('log', `b${i}/1.gz`, log);
    objects.set(`log b${i}/1.gz`, log);
  }
  const big = randomBytes(6 * 2 ** 20 + 17);
  await source.put('nar', 'none/big/y-big', big);
  objects.set('nar none/big/y-big', big);
});

afterAll(async () => {
  for (const s of opened) s.close();
  await target.stop();
  rmSync(work, { recursive: true, force: true });
});

async function destination(): Promise<S3Storage> {
  const s = await createS3Storage({
    url: target.url(),
    scratchDir: join(work, `scratch-${opened.length}`),
    credentials: target.credentials,
    partSize: 5 * 2 ** 20,
  });
  opened.push(s);
  return s;
}

async function expectAllThere(to: Storage): Promise<void> {
  for (const [entry, bytes] of objects) {
    const [area, key] = entry.split(' ') as ['nar' | 'log', string];
    const stream = await to.get(area, key);
    expect(stream, entry).not.toBeNull();
    expect((await collect(stream!)).equals(bytes), entry).toBe(true);
  }
}

describe('migrating a data directory into object storage', () => {
  it('copies every NAR and log, verified, and a rerun copies nothing', async () => {
    const to = await destination();
    const journal = join(work, 'j1');
    const seen: MigrateProgress[] = [];
    const first = await migrateStorage({ from: source, to, journal, onProgress: (p) => seen.push(p) });
    expect(first).toMatchObject({ totalObjects: objects.size, copied: objects.size, skipped: 0 });
    expect(seen.map((p) => p.doneObjects)).toEqual([...Array(objects.size).keys()].map((i) => i + 1));
    expect(seen.at(-1)!.doneBytes).toBe(first.totalBytes);
    await expectAllThere(to);
    const again = await migrateStorage({ from: source, to, journal });
    expect(again).toMatchObject({ copied: 0, skipped: objects.size, verifiedExisting: 0 });
  });

  it('resumes an interrupted run, and checks what it finds there without a record', async () => {
    const to = await destination();
    const journal = join(work, 'j2');
    const stop = new AbortController();
    const cut = await migrateStorage({
      from: source,
      to,
      journal,
      concurrency: 1,
      signal: stop.signal,
      onProgress: (p) => p.doneObjects === 4 && stop.abort(),
    });
    expect(cut.copied).toBe(4);
    const resumed = await migrateStorage({ from: source, to, journal });
    expect(resumed).toMatchObject({ copied: objects.size - 4, skipped: 4 });
    await expectAllThere(to);

    await rm(journal); // as if the journal were lost: everything is read back and compared
    const checked = await migrateStorage({ from: source, to, journal });
    expect(checked).toMatchObject({ copied: 0, skipped: 0, verifiedExisting: objects.size });
  });

  it('copies again an object found there with the same size but other bytes', async () => {
    const to = await destination();
    const journal = join(work, 'j3');
    const wrong = Buffer.from(objects.get('log b2/1.gz')!);
    wrong.fill(0x41, 0, 10);
    await to.put('log', 'b2/1.gz', wrong);
    const run = await migrateStorage({ from: source, to, journal });
    expect(run).toMatchObject({ copied: objects.size, verifiedExisting: 0 });
    await expectAllThere(to);
  });
});
