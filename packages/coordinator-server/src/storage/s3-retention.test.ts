// Retention over object storage: a real SQLite datastore names two outputs,
// one past the policy's age; a run deletes the old one's NAR object from the
// bucket (and an orphan no record names), and keeps the recent one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatastore, recordOutputMetadata, type Datastore } from '@gbc/datastore';
import { resolveRetentionPolicy } from '../retention/policy.js';
import { runRetention } from '../retention/run-retention.js';
import { createS3Storage, type S3Storage } from './s3-storage.js';
import { startS3Target, type S3TestTarget } from './testing/s3-target.js';

const DAY = 86_400_000;
const fakeHash = 'sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s';
const work = mkdtempSync(join(tmpdir(), 'gbc-s3-retention-'));
let target: S3TestTarget;
let storage: S3Storage;
let datastore: Datastore;

beforeAll(async () => {
  target = await startS3Target();
  storage = await createS3Storage({
    url: target.url(),
    scratchDir: join(work, 'scratch'),
    credentials: target.credentials,
  });
  datastore = await openDatastore(`sqlite://${join(work, 'gbc.db')}`, { migrate: true });
});

afterAll(async () => {
  await datastore.close();
  storage.close();
  await target.stop();
  rmSync(work, { recursive: true, force: true });
});

async function output(name: string, ageDays: number, now: number): Promise<string> {
  const storePath = `/gnu/store/${name.padEnd(32, 'a')}-${name}`;
  const key = `zstd/${storePath.slice(11)}`;
  await storage.put('nar', key, Buffer.alloc(1000, name));
  await recordOutputMetadata(
    datastore.db,
    [
      {
        storePath,
        narHash: fakeHash,
        narSize: 1000,
        references: [],
        files: [{ compression: 'zstd', fileSize: 1000, fileHash: null, location: key }],
      },
    ],
    now - ageDays * DAY,
    null,
  );
  return key;
}

describe('retention over object storage', () => {
  it('deletes the objects of outputs past their age and orphans, and keeps the rest', async () => {
    const now = Date.now();
    const old = await output('old', 30, now);
    const recent = await output('recent', 1, now);
    await storage.put('nar', 'zstd/orphan-nobody-names', Buffer.from('orphan'));
    const result = await runRetention({
      datastore,
      storage,
      policy: resolveRetentionPolicy({ outputDays: 7, orphanGraceSeconds: 0 }),
      // A little ahead: the orphan's LastModified (whole seconds) must be past its grace of 0.
      now: () => now + 5000,
    });
    expect(result.removedOutputs).toHaveLength(1);
    expect(result.orphanNars).toEqual(['zstd/orphan-nobody-names']);
    expect(await storage.stat('nar', old)).toBeNull();
    expect(await storage.stat('nar', 'zstd/orphan-nobody-names')).toBeNull();
    expect((await storage.stat('nar', recent))?.size).toBe(1000);
  });
});
