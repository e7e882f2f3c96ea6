// Issue 7's farm with its NARs and logs in object storage (issue 21): the
// coordinator runs with `--storage s3://…` against the S3 target of
// @gbc/coordinator-server/testing (an s3rver started here, or the endpoint
// named by GBC_TEST_S3_ENDPOINT). Outputs are uploaded into the bucket,
// served from it to Nix and Guix's publish hook, and are found there after.
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Storage } from '@gbc/coordinator-server';
import { startS3Target, type S3TestTarget } from '@gbc/coordinator-server/testing';
import { describeFarm } from './farm-scenario.js';

let target: S3TestTarget;
let url: string;

beforeAll(async () => {
  target = await startS3Target();
  url = target.url();
  // The coordinator process inherits the credentials (AWS_* pass through to gbc's children).
  Object.assign(process.env, target.env);
});

describeFarm({
  label: 'SQLite, /nix/store, NARs and logs in S3',
  storeDir: '/nix/store',
  database: (dir) =>
    Promise.resolve({ uri: `sqlite://${join(dir, 'gbc.db')}`, drop: () => Promise.resolve() }),
  storage: () => url,
});

describe('the farm in object storage', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'gbc-farm-s3-check-'));

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await target.stop();
  });

  it('kept the NARs and sealed logs in the bucket', async () => {
    const storage = await createS3Storage({ url, scratchDir: scratch, credentials: target.credentials });
    try {
      const count = async (area: 'nar' | 'log'): Promise<number> => {
        let n = 0;
        for await (const o of storage.list(area)) if (o.size > 0) n++;
        return n;
      };
      expect(await count('nar')).toBeGreaterThan(5);
      expect(await count('log')).toBeGreaterThan(5);
    } finally {
      storage.close();
    }
  });
});
