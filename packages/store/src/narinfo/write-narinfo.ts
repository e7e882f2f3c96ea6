// Writes a narinfo in the exact layout of its flavour, so that what Nix or
// `guix publish` wrote comes back byte for byte.
import { quote } from '../errors.js';
import { NarInfoError } from './narinfo-error.js';
import type { NarFile, NarInfo } from './narinfo-types.js';

type Line = readonly [key: string, value: string | number | undefined];

/**
 * Writes `info` as narinfo text in the layout of `info.flavour` (see
 * {@link NarInfoFlavour}). Optional fields that are undefined are left out.
 * Throws {@link NarInfoError} for what no narinfo can hold: a value with a
 * newline or control character, no NAR file, several files or Guix
 * signatures in a Nix narinfo, Nix `Sig`s in a Guix one.
 */
export function writeNarInfo(info: NarInfo): string {
  if (info.files.length === 0) throw layout('a narinfo needs at least one NAR file');
  const head: Line[] = [['StorePath', info.storePath]];
  const item: Line[] = [
    ['NarHash', info.narHash],
    ['NarSize', info.narSize],
    ['References', info.references.join(' ')],
    ['Deriver', info.deriver],
    ['System', info.system],
  ];
  const files = info.files.flatMap(fileLines);
  let lines: Line[];
  if (info.flavour === 'nix') {
    if (info.files.length > 1) throw layout('a Nix narinfo has exactly one NAR file');
    if (info.guixSignature !== undefined) throw layout('a Nix narinfo has no Guix Signature');
    lines = [...head, ...files, ...item, ...info.sigs.map((s): Line => ['Sig', s]), ['CA', info.ca]];
  } else {
    if (info.sigs.length > 0) throw layout('a Guix narinfo has no Nix Sig lines');
    const signed: Line[] = [...item, ['CA', info.ca]];
    const signature: Line = ['Signature', info.guixSignature];
    lines =
      info.flavour === 'guix'
        ? [...head, ...signed, signature, ...files]
        : [...head, ...files, ...signed, signature];
  }
  let out = '';
  for (const [key, value] of lines) {
    if (value === undefined) continue;
    const text = String(value);
    // A control character would end the line early or smuggle in a field.
    // eslint-disable-next-line no-control-regex -- matching control characters is this check's job
    if (/[\u0000-\u001f\u007f]/.test(text)) {
      throw new NarInfoError('narinfo-bad-value', 'a narinfo value holds a control character', {
        field: key,
        found: quote(text),
      });
    }
    out += `${key}: ${text}\n`;
  }
  return out;
}

function fileLines(file: NarFile): Line[] {
  return [
    ['URL', file.url],
    ['Compression', file.compression],
    ['FileHash', file.fileHash],
    ['FileSize', file.fileSize],
  ];
}

function layout(message: string): NarInfoError {
  return new NarInfoError('narinfo-layout', message, {});
}
