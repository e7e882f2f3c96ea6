// Computed text, source, fixed-output paths checked against Nix itself, under
// /nix/store and /gnu/store (the store directory is part of the hash).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBase16, hashBytes, makeHash, parseHash, type HashAlgorithm } from '../hash/index.js';
import {
  makeFixedOutputPath,
  makeOutputPath,
  makeSourcePath,
  makeTextPath,
  outputPathName,
} from './content-paths.js';
import { StorePathError } from './errors.js';

const env = { ...process.env, NIX_REMOTE: 'daemon' };
const run = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', env }).trim();
// A dummy store evaluates and computes paths for any store directory without writing anything.
const storeArgs = (dir: string): string[] =>
  dir === '/nix/store' ? [] : ['--store', `dummy://?store=${dir}`];
const evalString = (dir: string, expr: string): string =>
  JSON.parse(run('nix-instantiate', [...storeArgs(dir), '--eval', '--json', '-E', expr])) as string;

const tmp = mkdtempSync(join(tmpdir(), 'gbc-paths-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(['/nix/store', '/gnu/store'])('content paths under %s', (dir) => {
  it('computes builtins.toFile text paths, with and without references', () => {
    const a = evalString(dir, 'builtins.toFile "foo" "hello\\n"');
    expect(makeTextPath(dir, 'foo', 'hello\n')).toBe(a);
    const b = evalString(
      dir,
      'let a = builtins.toFile "foo" "hello\\n"; c = builtins.toFile "c" "c"; in builtins.toFile "bar" "x ${c} ${a}"',
    );
    const c = evalString(dir, 'builtins.toFile "c" "c"');
    expect(makeTextPath(dir, 'bar', `x ${c} ${a}`, [a, c])).toBe(b);
    expect(makeTextPath(dir, 'bar', `x ${c} ${a}`, [c, a, c])).toBe(b);
  });

  it('computes fixed-output paths like nix-store --print-fixed-path', () => {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as HashAlgorithm[]) {
      const digest = hashBytes(`content for ${algorithm}`, algorithm);
      const hash = makeHash(algorithm, digest);
      for (const recursive of [false, true]) {
        const args = [
          ...storeArgs(dir),
          '--print-fixed-path',
          ...(recursive ? ['--recursive'] : []),
          algorithm,
          encodeBase16(digest),
          'fixed-thing',
        ];
        expect(
          makeFixedOutputPath(dir, 'fixed-thing', recursive ? 'recursive' : 'flat', hash),
          args.join(' '),
        ).toBe(run('nix-store', args));
      }
    }
  });

  it('computes source paths from a NAR hash like builtins.path', () => {
    const src = join(tmp, `src-${dir.replaceAll('/', '_')}`);
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'file'), 'some source\n');
    const expected = evalString(dir, `builtins.path { path = ${src}; name = "my-src"; }`);
    const narHash = parseHash(run('nix-hash', ['--type', 'sha256', '--base32', src]), 'sha256');
    expect(makeSourcePath(dir, 'my-src', narHash)).toBe(expected);
    expect(makeFixedOutputPath(dir, 'my-src', 'recursive', narHash)).toBe(expected);
  });
});

describe('output paths and refusals', () => {
  it('names outputs and differs by store directory', () => {
    expect(outputPathName('hello', 'out')).toBe('hello');
    expect(outputPathName('hello', 'dev')).toBe('hello-dev');
    const h = hashBytes('x');
    expect(makeOutputPath('/gnu/store', 'hello', 'dev', h)).toMatch(/^\/gnu\/store\/[0-9a-z]{32}-hello-dev$/);
    expect(makeOutputPath('/gnu/store', 'hello', 'out', h).slice(11)).not.toBe(
      makeOutputPath('/nix/store', 'hello', 'out', h).slice(11),
    );
  });

  it('refuses references on flat fixed outputs, foreign references and bad names', () => {
    const hash = makeHash('sha256', hashBytes('x'));
    const ref = makeTextPath('/gnu/store', 'r', 'r');
    expect(() => makeFixedOutputPath('/gnu/store', 'f', 'flat', hash, [ref])).toThrow(StorePathError);
    expect(() => makeTextPath('/nix/store', 't', 't', [ref])).toThrow(/not in the store directory/);
    expect(() => makeTextPath('/gnu/store', '.t', 't')).toThrow(/starts with/);
    expect(() => makeSourcePath('/gnu/store', 's', makeHash('sha1', hashBytes('x', 'sha1')))).toThrow(
      /sha256/,
    );
  });
});
