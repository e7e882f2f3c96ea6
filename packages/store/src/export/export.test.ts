import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../errors.js';
import { formatNarHash } from '../nar/index.js';
import { collect, nixDump, nixEnv, tempDir } from '../nar/nar-test-support.js';
import { encodeU64 } from '../wire/index.js';
import { ExportError } from './errors.js';
import type { ExportedPathInfo } from './export-format.js';
import { readExport } from './export-reader.js';
import { restoreExport } from './export-restore.js';
import { exportItemFromFs, writeExport } from './export-writer.js';

const tmp = tempDir('gbc-export-');
afterAll(() => tmp.remove());
const run = (cmd: string, args: string[], input?: Uint8Array) =>
  execFileSync(cmd, args, { env: nixEnv(), input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] });
const text = (cmd: string, args: string[]) => run(cmd, args).toString('utf8').trim();

// A dependency chain: top's output refers to dep's, dep refers to nothing.
const expr = join(tmp.path, 'chain.nix');
writeFileSync(
  expr,
  `let dep = derivation { name = "gbc-export-dep"; system = builtins.currentSystem; builder = "/bin/sh";
        PATH = "/usr/bin:/bin";
        args = [ "-c" "mkdir $out; echo dep > $out/file; ln -s file $out/link" ]; };
   in derivation { name = "gbc-export-top"; system = builtins.currentSystem; builder = "/bin/sh";
        args = [ "-c" "echo \${dep} > $out" ]; }`,
);
const drv = text('nix-instantiate', [expr]);
const top = text('nix-store', ['-r', drv]);
const closure = text('nix-store', ['-q', '--requisites', top]).split('\n');
const infoOf = (path: string): ExportedPathInfo => {
  const deriver = text('nix-store', ['-q', '--deriver', path]);
  const references = text('nix-store', ['-q', '--references', path]).split('\n').filter(Boolean).sort();
  return { path, references, deriver: deriver === 'unknown-deriver' ? undefined : deriver };
};

describe('export format', () => {
  it('writes the bytes nix-store --export writes', async () => {
    expect(closure).toHaveLength(2);
    const ours = await collect(writeExport(closure.map((p) => exportItemFromFs(infoOf(p)))));
    expect(ours.equals(run('nix-store', ['--export', ...closure]))).toBe(true);
  });

  it('is accepted by nix-store --import into an empty store', async () => {
    const ours = await collect(writeExport(closure.map((p) => exportItemFromFs(infoOf(p)))));
    const store = `local?root=${join(tmp.path, 'other-root')}`;
    const imported = run('nix-store', ['--store', store, '--import'], ours)
      .toString('utf8')
      .trim()
      .split('\n');
    expect(imported).toEqual(closure);
    expect(text('nix-store', ['--store', store, '-q', '--hash', top])).toBe(
      text('nix-store', ['-q', '--hash', top]),
    );
    expect(text('nix-store', ['--store', store, '-q', '--references', top])).toBe(closure[0]);
  });

  it("reads nix's export: metadata, NarHash and NarSize as nix-store -q says", async () => {
    const exported = run('nix-store', ['--export', ...closure]);
    const seen: string[] = [];
    for await (const item of readExport([exported])) {
      seen.push(item.path);
      expect({ path: item.path, references: item.references, deriver: item.deriver }).toEqual(
        infoOf(item.path),
      );
      expect(formatNarHash(item.narHash)).toBe(text('nix-store', ['-q', '--hash', item.path]));
      expect(String(item.narSize)).toBe(text('nix-store', ['-q', '--size', item.path]));
    }
    expect(seen).toEqual(closure);
  });

  it('restores every path of an export into a directory', async () => {
    const dir = join(tmp.path, 'restored');
    execFileSync('mkdir', [dir]);
    const got: string[] = [];
    for await (const item of restoreExport([run('nix-store', ['--export', ...closure])], dir))
      got.push(item.result);
    expect(got).toEqual(closure.map((p) => join(dir, p.slice('/nix/store/'.length))));
    for (const p of closure)
      expect(nixDump(join(dir, p.slice('/nix/store/'.length))).equals(nixDump(p))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(closure.map((p) => p.slice('/nix/store/'.length)).sort());
    const again = async () => {
      for await (const _ of restoreExport([run('nix-store', ['--export', closure[0]!])], dir)) void _;
    };
    await expect(again()).rejects.toMatchObject({ code: 'path-exists' });
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('round-trips a Guix-style signature and an empty deriver', async () => {
    const signature = Buffer.from('(signature (data (hash sha256 #00#)))');
    const item = {
      path: '/gnu/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x',
      references: [],
      deriver: undefined,
      signature,
      nar: [nixDump(top)],
    };
    const items = [];
    for await (const x of readExport(writeExport([item]))) items.push(x);
    expect(items).toHaveLength(1);
    expect(Buffer.from(items[0]!.signature!).equals(signature)).toBe(true);
    expect(items[0]!.deriver).toBeUndefined();
  });

  it('refuses broken exports with typed errors, at every truncation too', async () => {
    const good = run('nix-store', ['--export', closure[1]!]);
    const read = async (bytes: Uint8Array) => {
      for await (const _ of readExport([bytes])) void _;
    };
    await expect(read(Buffer.concat([encodeU64(2), good.subarray(8)]))).rejects.toMatchObject({
      code: 'bad-marker',
    });
    const badMagic = Buffer.from(good);
    const magicAt = badMagic.indexOf(Buffer.from('NIXE'));
    badMagic[magicAt] = 0x4d;
    await expect(read(badMagic)).rejects.toMatchObject({ code: 'bad-magic', offset: magicAt });
    const badFlag = Buffer.from(good);
    badFlag[good.length - 16] = 2;
    await expect(read(badFlag)).rejects.toMatchObject({ code: 'bad-signature-flag' });
    await expect(read(Buffer.concat([good, Buffer.alloc(1)]))).rejects.toBeInstanceOf(ExportError);
    for (let cut = 0; cut < good.length; cut++) {
      const error = await read(good.subarray(0, cut)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
    }
  });
});
