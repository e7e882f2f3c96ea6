import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NarError } from './errors.js';
import { regularFileOfNar } from './nar-single-file.js';
import { nixDump, tempDir } from './nar-test-support.js';

const dir = tempDir();
afterAll(() => dir.remove());

function narString(s: string): Buffer {
  const bytes = Buffer.from(s);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([length, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8)]);
}

async function codeOf(nar: Uint8Array): Promise<string> {
  const error = await regularFileOfNar(nar).then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof NarError ? error.code : `not a NarError: ${String(error)}`;
}

describe('regularFileOfNar', () => {
  it('takes the bytes of a file NAR made by the real nix-store, executable or not', async () => {
    const plain = join(dir.path, 'plain.drv');
    writeFileSync(plain, 'Derive([("out","/nix/store/x","","")],[],[],"x86_64-linux","/bin/sh",[],[])');
    expect(Buffer.from(await regularFileOfNar(nixDump(plain))).toString()).toMatch(/^Derive\(/);
    const script = join(dir.path, 'script');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o755);
    expect(Buffer.from(await regularFileOfNar(nixDump(script))).toString()).toBe('#!/bin/sh\n');
    const empty = join(dir.path, 'empty');
    writeFileSync(empty, '');
    expect((await regularFileOfNar(nixDump(empty))).length).toBe(0);
  });

  it('refuses a directory and a symlink by what they are', async () => {
    mkdirSync(join(dir.path, 'tree'));
    writeFileSync(join(dir.path, 'tree', 'f'), 'f');
    symlinkSync('target', join(dir.path, 'link'));
    expect(await codeOf(nixDump(join(dir.path, 'tree')))).toBe('not-a-regular-file');
    expect(await codeOf(nixDump(join(dir.path, 'link')))).toBe('not-a-regular-file');
  });

  it('refuses malformed archives with the parser’s code: truncated, trailing, lying length, empty', async () => {
    const file = join(dir.path, 'f');
    writeFileSync(file, 'contents');
    const good = nixDump(file);
    const lyingLength = Buffer.concat([
      ...['nix-archive-1', '(', 'type', 'regular', 'contents'].map(narString),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 0x40]),
    ]);
    expect(await codeOf(good.subarray(0, good.length - 8))).toBe('truncated');
    expect(await codeOf(Buffer.concat([good, narString('more')]))).toBe('trailing-data');
    expect(await codeOf(lyingLength)).toMatch(/truncated|integer-too-large/);
    expect(await codeOf(Buffer.alloc(0))).toBe('truncated');
    expect(await codeOf(narString('not-a-nar'))).toBe('bad-magic');
    // Text read as a length prefix: an absurd length, refused before any allocation.
    expect(await codeOf(Buffer.from('not a nar at all, just text'))).toBe('integer-too-large');
  });
});
