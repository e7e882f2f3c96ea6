// `gbc storage migrate` as a real process, into the S3 target of
// @gbc/coordinator-server/testing (an s3rver the test starts, or the endpoint
// named by GBC_TEST_S3_ENDPOINT): progress on stderr, a summary on stdout; a
// run killed mid-way (SIGKILL) and rerun ends with every object there,
// verified, and the objects the first run recorded are not copied again.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataDirStorage, createS3Storage } from '@gbc/coordinator-server';
import { startS3Target, type S3TestTarget } from '@gbc/coordinator-server/testing';
import { ExitCode } from '../errors.js';
import { cleanEnv, GBC_BIN, runGbc } from '../testing/gbc-process.js';

const PROCESS_TIMEOUT = 120_000;
const work = mkdtempSync(join(tmpdir(), 'gbc-storage-migrate-'));
const dataDir = join(work, 'data');
let target: S3TestTarget;
const objects = new Map<string, Buffer>();

beforeAll(async () => {
  target = await startS3Target();
  const source = await createDataDirStorage(dataDir);
  for (let i = 0; i < 40; i++) {
    const nar = randomBytes(20_000 + i * 1000);
    await source.put('nar', `zstd/h${i}/p${i}-name`, nar);
    objects.set(`nar zstd/h${i}/p${i}-name`, nar);
  }
  const log = Buffer.from('a log\n'.repeat(1000));
  await source.put('log', 'build/1.gz', log);
  objects.set('log build/1.gz', log);
});

afterAll(async () => {
  await target.stop();
  rmSync(work, { recursive: true, force: true });
});

async function expectAllThere(url: string): Promise<void> {
  const storage = await createS3Storage({
    url,
    scratchDir: join(work, 'check'),
    credentials: target.credentials,
  });
  try {
    for (const [entry, bytes] of objects) {
      const [area, key] = entry.split(' ') as ['nar' | 'log', string];
      const stream = await storage.get(area, key);
      expect(stream, entry).not.toBeNull();
      const chunks: Buffer[] = [];
      for await (const c of stream!) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(bytes), entry).toBe(true);
    }
  } finally {
    storage.close();
  }
}

/** Runs the migration until its first progress line, then SIGKILLs it. */
function killAfterFirstProgress(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      GBC_BIN,
      ['storage', 'migrate', '--from', dataDir, '--to', url, '--concurrency', '1'],
      {
        cwd: work,
        env: cleanEnv(target.env),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes('migrate: ')) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('exit', () => resolve(stderr));
  });
}

describe('gbc storage migrate', () => {
  it(
    'copies a data directory into a bucket with progress, and resumes after being killed',
    async () => {
      const url = target.url();
      const killed = await killAfterFirstProgress(url);
      expect(killed).toMatch(/migrate: \d+\/41 objects/);

      const rerun = await runGbc(['storage', 'migrate', '--from', dataDir, '--to', url, '--json'], {
        cwd: work,
        env: target.env,
      });
      expect(rerun.code, rerun.stderr).toBe(ExitCode.ok);
      expect(rerun.stderr).toMatch(/migrate: 41\/41 objects/);
      const summary = JSON.parse(rerun.stdout) as Record<string, number>;
      expect(summary.totalObjects).toBe(41);
      expect(summary.skipped).toBeGreaterThanOrEqual(1); // what the killed run recorded is not sent again
      expect(summary.copied! + summary.skipped! + summary.verifiedExisting!).toBe(41);
      await expectAllThere(url);

      const again = await runGbc(['storage', 'migrate', '--from', dataDir, '--to', url], {
        cwd: work,
        env: target.env,
      });
      expect(again.code).toBe(ExitCode.ok);
      expect(again.stdout).toMatch(/copied 0, recorded before 41/);
    },
    PROCESS_TIMEOUT,
  );

  it('refuses a source that is not a data directory, in one line', async () => {
    const run = await runGbc(['storage', 'migrate', '--from', join(work, 'nothing'), '--to', target.url()], {
      cwd: work,
      env: target.env,
    });
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr.trim()).toMatch(/^gbc: .*is not a gbc data directory/);
  });
});
