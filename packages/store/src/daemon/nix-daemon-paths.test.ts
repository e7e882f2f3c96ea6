// Store paths through the client against real nix-daemons: path info and
// NAR dumps agree with nix-store, NARs land in a second daemon's own store,
// temporary roots hold off the garbage collector.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNix32 } from '../base32/index.js';
import { createBuildDaemon } from './native-daemon.js';
import { exportPathOn, importPathsOn } from './nar-transfer.js';
import { DaemonSession } from './session.js';
import {
  instantiate,
  nix,
  removeDir,
  startSecondDaemon,
  tempDir,
  type SecondDaemon,
} from './test-helpers.js';

const dir = tempDir('gbc-daemon-paths-');
const tag = randomUUID();
const local = createBuildDaemon({ storeDir: '/nix/store' });
let second: SecondDaemon;
let remote: ReturnType<typeof createBuildDaemon>;
let inputDrv: string;
let treeDrv: string;
let tree: string;
// What beforeAll opened, closed last-first: a failed start leaves only what it got to.
const closers: (() => Promise<void>)[] = [];

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

const lines = (b: Buffer): string[] => b.toString('utf8').split('\n').filter(Boolean).sort();

beforeAll(async () => {
  inputDrv = instantiate(dir, 'gbc-input', 'echo input > $out', tag);
  // A tree with a directory, an executable, a symlink and a file of several MiB.
  const script = [
    'mkdir -p $out/sub',
    'echo hello > $out/sub/file',
    'printf "#!/bin/sh\\necho hi\\n" > $out/run && chmod +x $out/run',
    'ln -s sub/file $out/link',
    'head -c 3000001 /dev/urandom > $out/big',
    `cat ${'${input}'} > $out/from-input`,
  ].join('; ');
  const file = `${dir}/tree.nix`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    file,
    `let input = import ${dir}/input.nix; in derivation { name = "gbc-tree"; system = builtins.currentSystem;
      builder = "/bin/sh"; PATH = "/usr/bin:/bin"; inherit input; args = [ "-c" ${JSON.stringify(script)} ]; tag = "${tag}"; }`,
  );
  writeFileSync(`${dir}/input.nix`, readFileSync(`${dir}/gbc-input-${tag}.nix`));
  treeDrv = nix('nix-instantiate', [file]).toString('utf8').trim();
  tree = nix('nix-store', ['--realise', treeDrv]).toString('utf8').trim();
  second = await startSecondDaemon(dir);
  closers.push(() => second.stop());
  remote = createBuildDaemon({ socket: `unix://${second.socket}`, storeDir: '/nix/store' });
  closers.push(() => remote.close());
}, 60_000);

afterAll(async () => {
  await local.close();
  for (const close of closers.reverse()) await close();
  removeDir(dir);
});

describe('paths through nix-daemon', () => {
  it('reports path info as nix-store -q does', async () => {
    for (const path of [tree, treeDrv]) {
      const info = await local.queryPathInfo(path);
      expect(info).not.toBeNull();
      expect(`sha256:${encodeNix32(Buffer.from(info!.narHash, 'hex'))}`).toBe(
        nix('nix-store', ['-q', '--hash', path]).toString().trim(),
      );
      expect(info!.narHash).toMatch(/^[0-9a-f]{64}$/);
      expect(String(info!.narSize)).toBe(nix('nix-store', ['-q', '--size', path]).toString().trim());
      expect([...info!.references].sort()).toEqual(lines(nix('nix-store', ['-q', '--references', path])));
      const deriver = nix('nix-store', ['-q', '--deriver', path]).toString().trim();
      expect(info!.deriver ?? 'unknown-deriver').toBe(deriver);
      expect(info!.registrationTime).toBeGreaterThan(1_600_000_000);
    }
    expect(await local.queryPathInfo(`/nix/store/${'1'.repeat(32)}-absent`)).toBeNull();
    expect(await local.queryValidPaths([tree, `/nix/store/${'1'.repeat(32)}-absent`, treeDrv])).toEqual(
      expect.arrayContaining([tree, treeDrv]),
    );
  });

  it('dumps a path as the same bytes as nix-store --dump', async () => {
    const expected = nix('nix-store', ['--dump', tree]);
    expect(expected.length).toBeGreaterThan(3_000_000);
    const got = await collect(local.dumpPath(tree));
    expect(got.equals(expected)).toBe(true);
    // The connection is reusable after a dump.
    expect(await local.isValidPath(tree)).toBe(true);
  });

  it('adds NARs to a second daemon with its own store (AddToStoreNar, framed)', async () => {
    expect(await remote.isValidPath(tree)).toBe(false);
    // Closure order: the input's output, then the tree; the .drv files, input first.
    const inputOut = nix('nix-store', ['-q', '--outputs', inputDrv]).toString().trim();
    for (const path of [inputOut, tree, inputDrv, treeDrv]) {
      const info = (await local.queryPathInfo(path))!;
      await remote.addNar({ ...info, deriver: info.deriver }, local.dumpPath(path));
      expect(await remote.isValidPath(path)).toBe(true);
      const copied = (await remote.queryPathInfo(path))!;
      expect({ ...copied, registrationTime: 0, ultimate: false }).toEqual({
        ...info,
        registrationTime: 0,
        ultimate: false,
      });
    }
    expect((await collect(remote.dumpPath(tree))).equals(nix('nix-store', ['--dump', tree]))).toBe(true);
  });

  it('refuses a NAR whose hash does not match with a DaemonError', async () => {
    const info = (await local.queryPathInfo(inputDrv))!;
    const fake = `/nix/store/${'2'.repeat(32)}-${basename(inputDrv).slice(33)}`;
    const wrong = { ...info, path: fake, narHash: '0'.repeat(64), ca: null };
    await expect(remote.addNar(wrong, local.dumpPath(inputDrv))).rejects.toMatchObject({
      code: 'daemon-error',
      daemonMessage: expect.stringMatching(/hash mismatch/),
    });
    expect(await remote.isValidPath(fake)).toBe(false);
  });

  it('moves paths with export-path / import-paths, the operations guix-daemon uses', async () => {
    const source = await DaemonSession.open('/nix/var/nix/daemon-socket/socket');
    const target = await DaemonSession.open(second.socket);
    try {
      const drv = instantiate(dir, 'gbc-exported', 'echo exported > $out', tag);
      const path = nix('nix-store', ['--realise', drv]).toString().trim();
      const nar = await collect(exportPathOn(source, path));
      expect(nar.equals(nix('nix-store', ['--dump', path]))).toBe(true);
      const info = (await source.queryPathInfo(path))!;
      await importPathsOn(target, { ...info, deriver: null }, [nar.subarray(0, 100), nar.subarray(100)]);
      expect(await target.queryPathInfo(path)).toMatchObject({
        narHash: info.narHash,
        narSize: info.narSize,
        references: [],
      });
    } finally {
      source.close();
      target.close();
    }
  });

  it('keeps temporary roots until they are released', async () => {
    const drv = instantiate(dir, 'gbc-rooted', 'echo rooted > $out', tag);
    const out = nix('nix-store', ['--realise', drv]).toString().trim();
    const roots = local.openTempRoots();
    await roots.add(out);
    await roots.add(out);
    expect(roots.paths).toEqual([out]);
    expect(() => nix('nix-store', ['--delete', out])).toThrow(/still alive/);
    expect(await local.isValidPath(out)).toBe(true);
    roots.release();
    // The daemon drops the roots when its worker for that connection exits: wait for it.
    let deleted = false;
    for (let i = 0; i < 400 && !deleted; i++) {
      try {
        nix('nix-store', ['--delete', out]);
        deleted = true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
    expect(deleted).toBe(true);
    expect(await local.isValidPath(out)).toBe(false);
  });
});
