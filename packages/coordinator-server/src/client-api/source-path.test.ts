// Input-source path checks against paths made by nix (toFile text paths,
// nix-store --add source paths, --add-fixed flat paths) and their NARs.
import { describe, expect, it } from 'vitest';
import { addNixSources, instantiateNix, narOf } from './test-support.js';
import { isFilePathOf, isSourcePathOf, singleFileContents } from './source-path.js';

describe('input source paths', () => {
  const nix = instantiateNix();
  const added = addNixSources();

  it('recognises a source path by its NAR hash', () => {
    const { narHash, nar } = narOf(added.directory);
    expect(isSourcePathOf(added.directory, '/nix/store', narHash, [])).toBe(true);
    expect(isSourcePathOf(added.directory, '/nix/store', narOf(added.flat).narHash, [])).toBe(false);
    expect(isSourcePathOf(added.directory, '/nix/store', narHash, [nix.source])).toBe(false);
    expect(singleFileContents(nar)).toBeUndefined();
  });

  it('recognises a text path (builtins.toFile) from the file in its NAR', () => {
    const { narHash, nar } = narOf(nix.source);
    expect(isSourcePathOf(nix.source, '/nix/store', narHash, [])).toBe(false);
    expect(isFilePathOf(nix.source, '/nix/store', nar, [])).toBe(true);
    expect(isFilePathOf(nix.source, '/nix/store', nar, [added.flat])).toBe(false);
    expect(isFilePathOf(nix.source, '/gnu/store', nar, [])).toBe(false);
  });

  it('recognises a flat fixed-output path and refuses the NAR of another file', () => {
    expect(isFilePathOf(added.flat, '/nix/store', narOf(added.flat).nar, [])).toBe(true);
    expect(isFilePathOf(added.flat, '/nix/store', narOf(nix.source).nar, [])).toBe(false);
  });

  it('reads a single file, executable or not, and nothing else', () => {
    const text = narOf(nix.source).nar;
    expect(new TextDecoder().decode(singleFileContents(text))).toMatch(/^source [0-9a-f]{8}\n$/);
    expect(singleFileContents(text.subarray(0, text.length - 8))).toBeUndefined();
    expect(singleFileContents(new Uint8Array([...text, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(singleFileContents(new Uint8Array(3))).toBeUndefined();
  });
});
