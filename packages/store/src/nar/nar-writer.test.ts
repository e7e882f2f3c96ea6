import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpNar } from './nar-writer.js';
import { hashNar } from './nar-hash.js';
import { collect, makeTrickyTree, nixDump, nixEnv, tempDir } from './nar-test-support.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('dumpNar', () => {
  it('is byte-identical to nix-store --dump for a tree with every kind of node', async () => {
    const root = join(tmp.path, 'tree');
    makeTrickyTree(root);
    const ours = await collect(dumpNar(root));
    expect(ours.length).toBeGreaterThan(3 * 1024 * 1024);
    expect(ours.equals(nixDump(root))).toBe(true);
  });

  it('is byte-identical for a single file, an executable and a symlink as root', async () => {
    const file = join(tmp.path, 'single');
    writeFileSync(file, 'abc');
    expect((await collect(dumpNar(file))).equals(nixDump(file))).toBe(true);
    const link = join(tmp.path, 'tree', 'link-abs');
    expect((await collect(dumpNar(link))).equals(nixDump(link))).toBe(true);
  });

  it('gives the same bytes whatever the batch and read sizes', async () => {
    const root = join(tmp.path, 'tree');
    const reference = nixDump(root);
    for (const [batchBytes, readBytes] of [
      [64, 8],
      [4096, 1000],
      [1 << 20, 7777],
    ] as const) {
      const chunks: Uint8Array[] = [];
      for await (const c of dumpNar(root, { batchBytes, readBytes })) chunks.push(c);
      expect(Buffer.concat(chunks).equals(reference)).toBe(true);
    }
  });

  it('is byte-identical for realised store outputs built by the nix-daemon', async () => {
    const expr = join(tmp.path, 'outputs.nix');
    writeFileSync(
      expr,
      `derivation {
        name = "gbc-nar-test-outputs";
        system = builtins.currentSystem;
        builder = "/bin/sh";
        outputs = [ "out" "dev" ];
        PATH = "/usr/bin:/bin";
        args = [ "-c" ''
          mkdir -p $out/bin $out/share/empty $dev/include
          printf '#!/bin/sh\\necho hi\\n' > $out/bin/hi && chmod 555 $out/bin/hi
          ln -s bin/hi $out/hi-link
          ln -s /nonexistent $out/dangling
          head -c 100000 /dev/zero > $out/share/zeros
          : > $out/share/empty-file
          echo header > $dev/include/h.h
        '' ];
      }`,
    );
    const drv = execFileSync('nix-instantiate', [expr], {
      env: nixEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
    const outputs = execFileSync('nix-store', ['-r', drv], {
      env: nixEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n');
    expect(outputs).toHaveLength(2);
    for (const out of [...outputs, drv]) {
      expect((await collect(dumpNar(out))).equals(nixDump(out))).toBe(true);
    }
  });

  it('gives the event loop a turn during a long dump, even to a consumer that never waits', async () => {
    let turns = 0;
    let stop = false;
    const tick = () => {
      if (stop) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    let chunks = 0;
    for await (const _ of dumpNar(join(tmp.path, 'tree'), { batchBytes: 4096, readBytes: 4096 })) chunks++;
    stop = true;
    expect(chunks).toBeGreaterThan(64);
    expect(turns).toBeGreaterThan(0);
  });

  it('refuses what a NAR cannot hold', async () => {
    await expect(collect(dumpNar('/dev/null'))).rejects.toMatchObject({ code: 'unsupported-file-type' });
  });
});

describe('dumpNar with reuseBuffers', () => {
  it('gives the same bytes to a consumer that copies each chunk before asking for the next', async () => {
    const root = join(tmp.path, 'tree');
    const reference = nixDump(root);
    for (const readBytes of [1 << 20, 4096]) {
      const copies: Buffer[] = [];
      const seen = new Set<ArrayBufferLike>();
      for await (const chunk of dumpNar(root, { reuseBuffers: true, readBytes })) {
        copies.push(Buffer.from(chunk));
        seen.add(chunk.buffer);
      }
      expect(Buffer.concat(copies).equals(reference)).toBe(true);
      // Recycling: a 3 MiB file and dozens of nodes went through a handful of buffers.
      expect(seen.size).toBeLessThan(8);
    }
  });
});

describe('dumpNar with released chunks', () => {
  it('reuses released chunks and leaves the ones a consumer keeps untouched', async () => {
    const root = join(tmp.path, 'tree');
    const reference = nixDump(root);
    for (const [batchBytes, readBytes] of [
      [undefined, undefined],
      [4096, 4096],
      [64, 1000],
    ] as const) {
      const dump = dumpNar(root, { batchBytes, readBytes });
      const parts: Buffer[] = [];
      const kept: { chunk: Uint8Array; copy: Buffer }[] = [];
      const memories = new Set<ArrayBufferLike>();
      let n = 0;
      for await (const chunk of dump) {
        const copy = Buffer.from(chunk);
        parts.push(copy);
        memories.add(chunk.buffer);
        // Keep every third chunk, release the others.
        if (n++ % 3 === 0) kept.push({ chunk, copy });
        else dump.release(chunk);
      }
      expect(Buffer.concat(parts).equals(reference)).toBe(true);
      // Chunks kept were never handed out again, so never overwritten.
      expect(kept.every(({ chunk, copy }) => copy.equals(chunk))).toBe(true);
      // Released memory came back: fewer distinct buffers than chunks.
      expect(memories.size).toBeLessThan(n);
    }
  });

  it('lets hashNar release what it hashed: same digest as a dump whose chunks are kept', async () => {
    const root = join(tmp.path, 'tree');
    const dump = dumpNar(root, { readBytes: 4096, batchBytes: 4096 });
    const released: Uint8Array[] = [];
    const release = dump.release;
    dump.release = (chunk) => {
      released.push(chunk);
      release(chunk);
    };
    const digest = await hashNar(dump);
    const kept = await collect(dumpNar(root));
    expect(digest.narSize).toBe(kept.length);
    expect(digest).toEqual(await hashNar([kept]));
    expect(released.reduce((sum, c) => sum + c.length, 0)).toBe(kept.length);
  });
});
