// Test support for the NAR tests (not exported): a tricky directory tree,
// temporary directories, and the real nix-store as the oracle.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory; `remove()` deletes it. */
export function tempDir(prefix = 'gbc-nar-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** `nix-store --dump PATH` as bytes. */
export function nixDump(path: string | Buffer): Buffer {
  return execFileSync('nix-store', ['--dump', path.toString()], { maxBuffer: 1 << 30, env: nixEnv() });
}

/** `nix-store --restore PATH` fed with `nar`. */
export function nixRestore(path: string, nar: Uint8Array): void {
  execFileSync('nix-store', ['--restore', path], {
    input: nar,
    env: nixEnv(),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
}

/** Environment for the nix tools: the test daemon. */
export function nixEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NIX_REMOTE: process.env.NIX_REMOTE ?? 'daemon' };
}

/** Collects an async stream of chunks into one buffer. */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * Builds a tree with every kind of node: files, executables, empty files, a
 * few-MiB file, symlinks (relative, absolute, dangling, to a directory),
 * nested and empty directories, names with unicode and invalid-UTF-8 bytes,
 * and names whose byte order differs from their character order.
 */
export function makeTrickyTree(root: string): void {
  mkdirSync(root);
  const at = (...parts: (string | Buffer)[]): Buffer =>
    Buffer.concat([Buffer.from(root), ...parts.flatMap((p) => [Buffer.from('/'), Buffer.from(p)])]);
  writeFileSync(at('hello.txt'), 'hello\n');
  writeFileSync(at('empty'), '');
  writeFileSync(at('seven'), '1234567');
  writeFileSync(at('eight'), '12345678');
  writeFileSync(at('run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(at('run.sh'), 0o755);
  writeFileSync(at('only-owner-x'), 'x');
  chmodSync(at('only-owner-x'), 0o700);
  writeFileSync(at('empty-exec'), '');
  chmodSync(at('empty-exec'), 0o555);
  const big = Buffer.alloc(3 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 0xff;
  writeFileSync(at('big.bin'), big);
  mkdirSync(at('dir'));
  mkdirSync(at('dir', 'nested'));
  mkdirSync(at('dir', 'nested', 'deeper'));
  writeFileSync(at('dir', 'nested', 'deeper', 'leaf'), 'leaf');
  mkdirSync(at('empty-dir'));
  mkdirSync(at('dir', 'empty-inner'));
  symlinkSync('hello.txt', at('link-rel'));
  symlinkSync('/etc/passwd', at('link-abs'));
  symlinkSync('does/not/exist', at('link-dangling'));
  symlinkSync('dir', at('link-dir'));
  symlinkSync('../../hello.txt', at('dir', 'nested', 'up'));
  writeFileSync(at('ünïcødé-名前'), 'unicode');
  writeFileSync(at(Buffer.from([0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0x2d, 0xe9, 0xff])), 'latin1 bytes');
  writeFileSync(at('Zebra'), 'upper case sorts first');
  writeFileSync(at('a b'), 'space');
  writeFileSync(at('a-b'), 'dash');
  writeFileSync(at('a.b'), 'dot');
  writeFileSync(at('.hidden'), 'dot file');
  writeFileSync(at('...'), 'three dots');
  writeFileSync(at('x'.repeat(255)), 'long name');
}

/** One item of a hand-made NAR: a string (length-prefixed and padded), or raw bytes. */
export type NarPiece = string | Uint8Array | { readonly raw: Uint8Array };

/** Encodes hand-made NAR pieces, for building hostile archives. */
export function narBytes(...pieces: NarPiece[]): Buffer {
  return Buffer.concat(
    pieces.map((p) => {
      if (typeof p === 'object' && 'raw' in p) return p.raw;
      const data = typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(data.length));
      return Buffer.concat([length, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
    }),
  );
}

/** The pieces of a directory entry holding a regular file. */
export function fileEntry(name: string, contents: string): string[] {
  return ['entry', '(', 'name', name, 'node', '(', 'type', 'regular', 'contents', contents, ')', ')'];
}
