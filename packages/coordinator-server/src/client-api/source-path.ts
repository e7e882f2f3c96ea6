// Whether an input source's store path is the one its content implies. Nix
// and Guix add sources three ways: by NAR hash (`source` paths, with
// references), as text (`text` paths: sha256 of a single file's bytes, with
// references), or as a flat fixed output (`output:out` over the file's
// sha256, no references). The first is checked from the NAR hash alone; the
// others need the file's bytes, read from a small single-file NAR.
import { makeFixedOutputPath, makeHash, makeSourcePath, makeTextPath, sha256 } from '@gbc/store';
import { parseNarHash } from '../storage/index.js';

/** Largest NAR whose bytes are read back to check a text or flat source path: 16 MiB. */
export const MAX_TEXT_SOURCE_NAR = 16 * 1024 * 1024;

/** True when `storePath` is the source path (by NAR hash) of `narHash` and `references`. */
export function isSourcePathOf(
  storePath: string,
  storeDir: string,
  narHash: string,
  references: readonly string[],
): boolean {
  const name = storePath.slice(storeDir.length + 34);
  const others = references.filter((r) => r !== storePath);
  return (
    makeSourcePath(storeDir, name, parseNarHash(narHash), others, others.length !== references.length) ===
    storePath
  );
}

/** True when `storePath` is the text path or the flat fixed-output path of the single file in `nar`. */
export function isFilePathOf(
  storePath: string,
  storeDir: string,
  nar: Uint8Array,
  references: readonly string[],
): boolean {
  const contents = singleFileContents(nar);
  if (contents === undefined) return false;
  const name = storePath.slice(storeDir.length + 34);
  if (references.includes(storePath)) return false;
  if (makeTextPath(storeDir, name, contents, references) === storePath) return true;
  return (
    references.length === 0 &&
    makeFixedOutputPath(storeDir, name, 'flat', makeHash('sha256', sha256(contents))) === storePath
  );
}

/** The bytes of a NAR whose root is a regular file, or undefined for any other NAR. */
export function singleFileContents(nar: Uint8Array): Uint8Array | undefined {
  const view = Buffer.from(nar.buffer, nar.byteOffset, nar.byteLength);
  let at = 0;
  const next = (): Buffer | undefined => {
    if (at + 8 > view.length) return undefined;
    const length = Number(view.readBigUInt64LE(at));
    const start = at + 8;
    const end = start + length;
    if (end > view.length) return undefined;
    at = start + Math.ceil(length / 8) * 8;
    return view.subarray(start, end);
  };
  const expect = (...words: string[]): boolean => words.every((w) => next()?.toString('latin1') === w);
  if (!expect('nix-archive-1', '(', 'type', 'regular')) return undefined;
  let field = next()?.toString('latin1');
  if (field === 'executable') {
    if (!expect('')) return undefined;
    field = next()?.toString('latin1');
  }
  if (field !== 'contents') return undefined;
  const contents = next();
  if (contents === undefined || !expect(')') || at !== view.length) return undefined;
  return new Uint8Array(contents);
}
