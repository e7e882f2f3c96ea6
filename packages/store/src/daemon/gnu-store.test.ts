// The Nix dialect with Guix's store directory: a real nix-daemon serving
// /gnu/store (under its own root) takes a derivation as text, builds it and
// dumps its output through the client.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuildDaemon, type NativeBuildDaemon } from './native-daemon.js';
import { nix, removeDir, startSecondDaemon, tempDir, type SecondDaemon } from './test-helpers.js';

const dir = tempDir('gbc-gnu-store-');
let daemon: SecondDaemon;
let client: NativeBuildDaemon;
// What beforeAll opened, closed last-first: a failed start leaves only what it got to.
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  daemon = await startSecondDaemon(dir, '/gnu/store');
  closers.push(() => daemon.stop());
  client = createBuildDaemon({ socket: `unix://${daemon.socket}`, storeDir: '/gnu/store' });
  closers.push(() => client.close());
}, 30_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  removeDir(dir);
});

describe('a /gnu/store daemon', () => {
  it('adds a /gnu/store derivation as text, builds it and dumps the output', async () => {
    writeFileSync(
      join(dir, 'gnu.nix'),
      'derivation { name = "gbc-gnu"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo gnu line; echo gnu > $out" ]; }',
    );
    const instRoot = join(dir, 'inst');
    const drvPath = nix('nix-instantiate', [
      '--store',
      `local?store=/gnu/store&root=${instRoot}`,
      join(dir, 'gnu.nix'),
    ])
      .toString()
      .trim();
    expect(drvPath).toMatch(/^\/gnu\/store\/[0-9a-z]{32}-gbc-gnu\.drv$/);
    const text = readFileSync(join(instRoot, 'nix/store', basename(drvPath)));
    expect(await client.addTextToStore('gbc-gnu.drv', text, [])).toBe(drvPath);
    const lines: string[] = [];
    const result = await client.build(drvPath, { onLog: (l) => lines.push(l.text) });
    expect(result).toMatchObject({ success: true, status: 'built' });
    expect(lines).toContain('gnu line');
    const out = /"out","(\/gnu\/store\/[^"]+)"/.exec(text.toString('latin1'))![1]!;
    const onDisk = join(daemon.root, 'nix/store', basename(out));
    expect(readFileSync(onDisk, 'utf8')).toBe('gnu\n');
    const expected = nix('nix-store', ['--dump', onDisk]);
    const parts: Uint8Array[] = [];
    for await (const part of client.dumpPath(out)) parts.push(part);
    expect(Buffer.concat(parts).equals(expected)).toBe(true);
    const info = (await client.queryPathInfo(out))!;
    expect(info).toMatchObject({ path: out, deriver: drvPath, narSize: expected.length, references: [] });
    expect(info.narHash).toBe(createHash('sha256').update(expected).digest('hex'));
  });
});
