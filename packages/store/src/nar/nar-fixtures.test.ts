import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { NarError } from './errors.js';
import { copyNar } from './nar-copy.js';
import { listNar } from './nar-list.js';
import { restoreNar } from './nar-restore.js';
import { dumpNar } from './nar-writer.js';
import { collect, nixDump, nixRestore, tempDir } from './nar-test-support.js';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'nar');
const files = (kind: string) =>
  readdirSync(join(fixtures, kind))
    .filter((f) => f.endsWith('.nar'))
    .sort();
const tmp = tempDir();
afterAll(() => tmp.remove());
let n = 0;

describe('NAR fixtures: ok', () => {
  it('has fixtures', () => expect(files('ok').length).toBeGreaterThan(3));
  for (const file of files('ok')) {
    it(`accepts ${file}, restores it as nix does and dumps it back identical`, async () => {
      const nar = readFileSync(join(fixtures, 'ok', file));
      expect((await listNar([nar])).length).toBeGreaterThan(0);
      expect((await collect(copyNar([nar], { wholeInput: true }))).equals(nar)).toBe(true);
      const ours = join(tmp.path, `ok-${n++}`);
      await restoreNar([nar], ours);
      expect((await collect(dumpNar(ours))).equals(nar)).toBe(true);
      const theirs = join(tmp.path, `ok-${n++}`);
      nixRestore(theirs, nar);
      expect(nixDump(theirs).equals(nixDump(ours))).toBe(true);
    });
  }
});

describe('NAR fixtures: bad (the file name starts with the expected code)', () => {
  it('has fixtures', () => expect(files('bad').length).toBeGreaterThan(20));
  for (const file of files('bad')) {
    const code = file.split('--')[0];
    it(`refuses ${file} with ${code}, writing nothing`, async () => {
      const nar = readFileSync(join(fixtures, 'bad', file));
      const listed = listNar([nar]);
      await expect(listed).rejects.toBeInstanceOf(NarError);
      await expect(listed).rejects.toMatchObject({ code });
      const caught = await listNar([nar]).catch((e: unknown) => e);
      expect(caught).toBeInstanceOf(StoreError);
      expect(typeof (caught as StoreError).offset).toBe('number');
      const target = join(tmp.path, `bad-${n++}`);
      await expect(restoreNar([nar], target)).rejects.toMatchObject({ code });
      expect(existsSync(target)).toBe(false);
      // The symlink case points at /tmp: nothing may have landed there.
      expect(existsSync('/tmp/escaped')).toBe(false);
    });
  }
});
