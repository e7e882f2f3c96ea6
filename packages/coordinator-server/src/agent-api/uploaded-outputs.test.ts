import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestPlace, fakeDrv, startOn, submit } from './test-support.js';
import { createUploadedOutputs, sweepUploadedNotes, type UploadedOutput } from './uploaded-outputs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), 'gbc-uploaded-'));
  dirs.push(d);
  return d;
}

function note(output: string): UploadedOutput {
  return {
    output,
    metadata: {
      storePath: `/nix/store/00000000000000000000000000000000-x-${output}`,
      narHash: 'sha256:0000',
      narSize: 120,
      references: [],
      deriver: '/nix/store/11111111111111111111111111111111-x.drv',
      files: [{ compression: 'zstd', fileSize: 80, fileHash: 'sha256:1111', location: `zstd/x-${output}` }],
    },
  };
}

describe('uploaded-output notes', () => {
  it('are files: a new coordinator on the same directory reads what the old one wrote, and clears it', async () => {
    const dir = scratch();
    const before = createUploadedOutputs(dir);
    await before.save('b1', note('out'));
    await before.save('b1', note('dev'));
    const after = createUploadedOutputs(dir);
    expect(await after.load('b1', 'out')).toEqual(note('out'));
    expect(await after.load('b1', 'dev')).toEqual(note('dev'));
    expect(await after.load('b1', 'doc')).toBeUndefined();
    await after.clear('b1');
    expect(existsSync(join(dir, 'uploaded', 'b1'))).toBe(false);
  });

  it('clear removes the notes of this process and those left from before a restart alike', async () => {
    const dir = scratch();
    await createUploadedOutputs(dir).save('b2', note('old'));
    const notes = createUploadedOutputs(dir);
    await notes.save('b2', note('out'));
    expect(readdirSync(join(dir, 'uploaded', 'b2')).sort()).toEqual(['old.json', 'out.json']);
    await notes.clear('b2');
    expect(existsSync(join(dir, 'uploaded', 'b2'))).toBe(false);
    expect(await notes.load('b2', 'out')).toBeUndefined();
    // Clearing a build without notes is harmless.
    await notes.clear('never');
  });

  it('a note saved again replaces the first; notes past the memory limit are read from their files', async () => {
    const dir = scratch();
    const notes = createUploadedOutputs(dir);
    await notes.save('b3', note('out'));
    const replaced = { ...note('out'), metadata: { ...note('out').metadata, narSize: 999 } };
    await notes.save('b3', replaced);
    expect((await notes.load('b3', 'out'))?.metadata.narSize).toBe(999);
    for (let i = 0; i < 4100; i++) await notes.save(`m${i}`, note('out'));
    expect((await notes.load('b3', 'out'))?.metadata.narSize).toBe(999);
    await notes.clear('b3');
    expect(existsSync(join(dir, 'uploaded', 'b3'))).toBe(false);
  }, 60_000);

  it('at start, the notes of builds that are over or unknown go; those of builds still running stay', async () => {
    const place = createTestPlace('sqlite');
    const c = await startOn(place);
    try {
      const drvs = ['swept-running', 'swept-done'].map((n) => fakeDrv(n));
      const [running, done] = await submit(
        c,
        drvs,
        drvs.map((d) => ({ derivationPath: d.path })),
      );
      await c.context.datastore.db
        .updateTable('builds')
        .set({ state: 'succeeded' })
        .where('uuid', '=', done!)
        .execute();
      const dir = scratch();
      const notes = createUploadedOutputs(dir);
      for (const build of [running!, done!, '7b0f3a52-6f3e-4d2c-9a1b-2c3d4e5f6a7b'])
        await notes.save(build, note('out'));
      expect(await sweepUploadedNotes(dir, c.context.datastore.db)).toBe(2);
      expect(readdirSync(join(dir, 'uploaded'))).toEqual([running]);
    } finally {
      await c.stop();
      place.remove();
    }
  });
});
