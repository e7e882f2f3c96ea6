// The part of a Guix narinfo that `guix publish` signs: every line before
// `Signature:` (the URL groups too, in the older layout).
import { NarInfoError } from './narinfo-error.js';
import type { NarInfo } from './narinfo-types.js';
import { writeNarInfo } from './write-narinfo.js';

/**
 * Returns the text a Guix narinfo's `Signature` covers: the narinfo as
 * written, up to (not including) the `Signature:` line. Guix signs the
 * sha256 of this text; producing that signature is not done here.
 */
export function guixSignedText(info: NarInfo): string {
  if (info.flavour === 'nix')
    throw new NarInfoError('narinfo-layout', 'a Nix narinfo has no Guix signed part', { found: 'nix' });
  const text = writeNarInfo({ ...info, guixSignature: '-' });
  // StorePath always comes first, so the marker line follows a newline.
  return text.slice(0, text.indexOf('\nSignature: -\n') + 1);
}
