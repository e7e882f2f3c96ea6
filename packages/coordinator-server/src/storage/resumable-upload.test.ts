// Resuming uploads: after a broken body, and after the receiving process is
// SIGKILLed mid-way; the final check covers every byte, old and new. Partial
// uploads nobody resumes are swept.
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { silentLogger } from '../logger.js';
import {
  collect,
  compressWithProgram,
  decompressWithProgram,
  makeNar,
  waitFor,
} from '../test-support/bytes.js';
import { bodyOf, brokenBody, filesUnder, narHashOf } from '../test-support/upload-fixtures.js';
import { createDataDirStorage } from './data-dir-storage.js';
import { createNarUploads } from './nar-uploads.js';
import { startUploadSweep } from './upload-sweep.js';

const work = mkdtempSync(join(tmpdir(), 'gbc-resume-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const nar = makeNar(work, 2 << 20);
const narHash = narHashOf(nar);
const zst = compressWithProgram('zstd', nar);
const repoRoot = resolve(import.meta.dirname, '../../../..');

async function open(name: string) {
  const root = join(work, name);
  const storage = await createDataDirStorage(root);
  return { root, storage, uploads: await createNarUploads({ storage }) };
}

async function refusal(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

const base = {
  uploadId: 'b7-out',
  key: 'zstd/xyz-pkg',
  compression: 'zstd' as const,
  narHash,
  narSize: nar.length,
};

describe('resumable uploads', () => {
  it('keeps what arrived before a broken body, reports it, and resumes to a verified file', async () => {
    const { root, storage, uploads } = await open('broken');
    const cut = 300_000;
    const error = await refusal(uploads.receive({ ...base, body: brokenBody(zst, cut) }));
    expect(error.code).toBe('interrupted');
    expect(error.received).toBe(cut);
    expect(await uploads.status('b7-out')).toMatchObject({
      received: cut,
      key: 'zstd/xyz-pkg',
      narSize: nar.length,
    });
    expect(await storage.stat('nar', 'zstd/xyz-pkg')).toBeNull();
    // Resuming a little before the end of what we have is allowed: the client's offset wins.
    const offset = cut - 1000;
    const stored = await uploads.receive({ ...base, offset, body: bodyOf(zst.subarray(offset)) });
    expect(stored.fileHash).toBe(narHashOf(zst));
    expect((await collect((await storage.get('nar', 'zstd/xyz-pkg'))!)).equals(zst)).toBe(true);
    expect(await uploads.status('b7-out')).toBeNull();
    expect(filesUnder(root)).toEqual(['nar/zstd/xyz-pkg']);
  });

  it('refuses an offset past what it has, and a resume that declares another NAR', async () => {
    const { root, uploads } = await open('mismatch');
    await refusal(uploads.receive({ ...base, body: brokenBody(zst, 100_000) }));
    const past = await refusal(
      uploads.receive({ ...base, offset: 200_000, body: bodyOf(zst.subarray(200_000)) }),
    );
    expect(past.code).toBe('offset-mismatch');
    expect(past.received).toBe(100_000);
    const other = await refusal(
      uploads.receive({
        ...base,
        narSize: nar.length + 1,
        offset: 100_000,
        body: bodyOf(zst.subarray(100_000)),
      }),
    );
    expect(other.code).toBe('offset-mismatch');
    expect(other.received).toBe(0);
    expect(filesUnder(root)).toEqual([]);
  });

  it('a corrupt kept prefix is caught by the final check when resuming', async () => {
    const { root, uploads } = await open('corrupt-prefix');
    await refusal(uploads.receive({ ...base, body: brokenBody(zst, 100_000) }));
    const part = join(root, 'scratch', 'uploads', 'b7-out.part');
    const fd = openSync(part, 'r+');
    const { writeSync, closeSync } = await import('node:fs');
    writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, 50_000);
    closeSync(fd);
    const error = await refusal(
      uploads.receive({ ...base, offset: 100_000, body: bodyOf(zst.subarray(100_000)) }),
    );
    expect(error.code).toBe('corrupt-compression');
    expect(filesUnder(root)).toEqual([]);
  });

  it('lists, discards and sweeps partial uploads; a restart removes only crash temporaries', async () => {
    const { root, uploads } = await open('sweep');
    await refusal(uploads.receive({ ...base, uploadId: 'old', body: brokenBody(zst, 1000) }));
    await refusal(uploads.receive({ ...base, uploadId: 'other', body: brokenBody(zst, 2000) }));
    expect((await uploads.list()).map((u) => [u.uploadId, u.received]).sort()).toEqual([
      ['old', 1000],
      ['other', 2000],
    ]);
    writeFileSync(join(root, 'scratch', 'uploads', '.tmp-0123-old.json'), '{');
    const reopened = await createNarUploads({ storage: await createDataDirStorage(root) });
    expect(filesUnder(root)).toEqual([
      'scratch/uploads/old.json',
      'scratch/uploads/old.part',
      'scratch/uploads/other.json',
      'scratch/uploads/other.part',
    ]);
    expect(await reopened.discard('other')).toBe(true);
    expect(await reopened.discard('other')).toBe(false);
    expect(await reopened.sweep(new Date(0))).toBe(0);
    expect(await reopened.sweep(new Date(Date.now() + 60_000))).toBe(1);
    expect(filesUnder(root)).toEqual([]);
  });

  it("the coordinator's sweep removes partial uploads nobody resumed, and keeps young ones", async () => {
    const { root, uploads } = await open('periodic-sweep');
    await refusal(uploads.receive({ ...base, uploadId: 'abandoned', body: brokenBody(zst, 1000) }));
    await refusal(uploads.receive({ ...base, uploadId: 'young', body: brokenBody(zst, 1000) }));
    // The abandoned one was last touched two hours ago (its agent died, its build went elsewhere).
    const past = new Date(Date.now() - 2 * 3_600_000);
    for (const f of ['abandoned.json', 'abandoned.part'])
      utimesSync(join(root, 'scratch', 'uploads', f), past, past);
    const logged: string[] = [];
    const logger = { ...silentLogger, info: (message: string) => void logged.push(message) };
    const sweep = startUploadSweep(uploads, { maxAgeSeconds: 3600, logger });
    try {
      await sweep.sweepNow(); // after the pass made at start
      expect(filesUnder(root)).toEqual(['scratch/uploads/young.json', 'scratch/uploads/young.part']);
      expect(logged).toEqual(['partial uploads nobody resumed: removed']);
    } finally {
      await sweep.stop();
    }
    const off = startUploadSweep(uploads, { maxAgeSeconds: 0, logger, now: () => Date.now() + 86_400_000 });
    await off.stop();
    expect(filesUnder(root)).toEqual(['scratch/uploads/young.json', 'scratch/uploads/young.part']);
  });

  it('refuses a second request for an upload that is being received', async () => {
    const { uploads } = await open('busy');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield zst.subarray(0, 1000);
      await gate;
      yield zst.subarray(1000);
    }
    const first = uploads.receive({ ...base, body: slow() });
    expect((await refusal(uploads.receive({ ...base, body: bodyOf(zst) }))).code).toBe('upload-in-progress');
    release();
    expect((await first).narHash).toBe(narHash);
  });

  it('resumes after the receiving process is SIGKILLed mid-upload', async () => {
    const root = join(work, 'killed');
    const log = openSync(join(work, 'child.log'), 'w');
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        'packages/coordinator-server/src/test-support/upload-child.ts',
        root,
        base.uploadId,
        base.key,
        'zstd',
        narHash,
        String(nar.length),
      ],
      { cwd: repoRoot, stdio: ['pipe', log, log] },
    );
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    try {
      const half = zst.length >> 1;
      child.stdin!.write(zst.subarray(0, half));
      const part = join(root, 'scratch', 'uploads', `${base.uploadId}.part`);
      await waitFor(() => {
        try {
          return statSync(part).size >= half;
        } catch {
          return false;
        }
      }, 'the child to receive half of the upload');
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
    // A new coordinator instance finds the partial upload from the directory alone.
    const storage = await createDataDirStorage(root);
    const uploads = await createNarUploads({ storage });
    const status = await uploads.status(base.uploadId);
    expect(status?.received).toBe(zst.length >> 1);
    const stored = await uploads.receive({
      ...base,
      offset: status!.received,
      body: bodyOf(zst.subarray(status!.received)),
    });
    expect(stored).toMatchObject({ narHash, narSize: nar.length, fileSize: zst.length });
    const back = await collect((await storage.get('nar', base.key))!);
    expect(decompressWithProgram('zstd', back).equals(nar)).toBe(true);
    expect(filesUnder(root)).toEqual([`nar/${base.key}`]);
  });
});
