import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NarError } from './errors.js';
import { listNar } from './nar-list.js';
import { restoreNar } from './nar-restore.js';
import { dumpNar } from './nar-writer.js';
import {
  collect,
  fileEntry,
  makeTrickyTree,
  narBytes,
  nixDump,
  nixRestore,
  tempDir,
} from './nar-test-support.js';

const tmp = tempDir();
afterAll(() => tmp.remove());
const tree = join(tmp.path, 'tree');
makeTrickyTree(tree);
const nar = nixDump(tree);

describe('restoreNar', () => {
  it("restores nix's NAR so that nix dumps it back identical", async () => {
    const target = join(tmp.path, 'ours');
    await restoreNar([nar], target);
    expect(nixDump(target).equals(nar)).toBe(true);
    expect(lstatSync(join(target, 'run.sh')).mode & 0o111).not.toBe(0);
    expect(lstatSync(join(target, 'hello.txt')).mode & 0o111).toBe(0);
    expect(lstatSync(join(target, 'link-dangling')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(target, 'link-abs'))).toBe('/etc/passwd');
  });

  it('writes a NAR that nix-store --restore accepts and that matches ours', async () => {
    const ourNar = await collect(dumpNar(tree));
    const target = join(tmp.path, 'theirs');
    nixRestore(target, ourNar);
    expect((await collect(dumpNar(target))).equals(nar)).toBe(true);
  });

  it('lists every node with its type, size, executable flag and target', async () => {
    const entries = await listNar([nar]);
    const byPath = new Map(entries.map((e) => [Buffer.from(e.path).toString('latin1'), e]));
    expect(byPath.get('')?.type).toBe('directory');
    expect(byPath.get('run.sh')).toMatchObject({ type: 'regular', executable: true, size: 18 });
    expect(byPath.get('big.bin')).toMatchObject({
      type: 'regular',
      executable: false,
      size: 3 * 1024 * 1024 + 5,
    });
    expect(Buffer.from(byPath.get('link-abs')?.target ?? []).toString()).toBe('/etc/passwd');
    expect(byPath.get('dir/nested/deeper/leaf')?.size).toBe(4);
  });

  it('refuses a target that exists, and leaves it alone', async () => {
    const target = join(tmp.path, 'exists');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'keep');
    await expect(restoreNar([nar], target)).rejects.toMatchObject({ code: 'target-exists' });
    const file = narBytes('nix-archive-1', '(', 'type', 'regular', 'contents', 'x', ')');
    await expect(restoreNar([file], join(target, 'keep'))).rejects.toMatchObject({ code: 'target-exists' });
    expect(readdirSync(target)).toEqual(['keep']);
  });

  it('never writes through a symlink, even one the NAR itself made', async () => {
    const outside = join(tmp.path, 'outside');
    mkdirSync(outside);
    const evil = narBytes(
      'nix-archive-1',
      '(',
      'type',
      'directory',
      'entry',
      '(',
      'name',
      'a',
      'node',
      '(',
      'type',
      'symlink',
      'target',
      outside,
      ')',
      ')',
      'entry',
      '(',
      'name',
      'a',
      'node',
      '(',
      'type',
      'directory',
      ...fileEntry('escaped', 'evil'),
      ')',
      ')',
      ')',
    );
    const target = join(tmp.path, 'evil');
    await expect(restoreNar([evil], target)).rejects.toBeInstanceOf(NarError);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(target)).toBe(false);
  });

  it('refuses every truncation of a small NAR, and leaves nothing behind', async () => {
    const small = join(tmp.path, 'small');
    mkdirSync(join(small, 'd'), { recursive: true });
    writeFileSync(join(small, 'd', 'f'), 'contents!');
    writeFileSync(join(small, 'e'), '');
    const smallNar = nixDump(small);
    expect(smallNar.length).toBeGreaterThan(300);
    for (let cut = 0; cut < smallNar.length; cut++) {
      const target = join(tmp.path, `cut-${cut}`);
      const error = await restoreNar([smallNar.subarray(0, cut)], target).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NarError);
      expect(existsSync(target)).toBe(false);
    }
  });
});

describe('restoreNar of a single file', () => {
  it('removes a half-written root file when the NAR is truncated', async () => {
    const file = narBytes('nix-archive-1', '(', 'type', 'regular', 'contents', 'some contents here', ')');
    const target = join(tmp.path, 'half-file');
    await expect(restoreNar([file.subarray(0, file.length - 20)], target)).rejects.toMatchObject({
      code: 'truncated',
    });
    expect(existsSync(target)).toBe(false);
    await restoreNar([file], target);
    expect(lstatSync(target).size).toBe(18);
  });
});

describe('deep archives', () => {
  it('refuses paths past PATH_MAX quickly instead of building ever longer paths', async () => {
    const levels = 3000;
    const opening = Array.from({ length: levels }, () => [
      'entry',
      '(',
      'name',
      'a',
      'node',
      '(',
      'type',
      'directory',
    ]).flat();
    const deep = narBytes('nix-archive-1', '(', 'type', 'directory', ...opening);
    const error = await listNar([deep]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'path-too-long' });
    // Restoring: long names reach the limit in 21 levels (the full path, with the target's own, is longer still).
    const long = 'x'.repeat(200);
    const wide = Array.from({ length: 21 }, () => [
      'entry',
      '(',
      'name',
      long,
      'node',
      '(',
      'type',
      'directory',
    ]).flat();
    const target = join(tmp.path, 'deep');
    await expect(
      restoreNar([narBytes('nix-archive-1', '(', 'type', 'directory', ...wide)], target),
    ).rejects.toMatchObject({ code: 'path-too-long' });
    expect(existsSync(target)).toBe(false);
  });

  it('accepts a deep archive within the limit, as nix does', async () => {
    const levels = 600; // "a/" × 600 = 1199 bytes
    const opening = Array.from({ length: levels }, () => [
      'entry',
      '(',
      'name',
      'a',
      'node',
      '(',
      'type',
      'directory',
    ]).flat();
    const closing = Array.from({ length: levels }, () => [')', ')']).flat();
    const deep = narBytes('nix-archive-1', '(', 'type', 'directory', ...opening, ')', ...closing);
    expect(await listNar([deep])).toHaveLength(levels + 1);
    const target = join(tmp.path, 'deep-ok');
    await restoreNar([deep], target);
    expect((await collect(dumpNar(target))).equals(deep)).toBe(true);
    expect(nixDump(target).equals(deep)).toBe(true);
  });
});
