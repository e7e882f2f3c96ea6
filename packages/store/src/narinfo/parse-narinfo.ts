// Parses narinfo text as written by Nix (`nix copy --to file://…`, Hydra) and
// by `guix publish`, refusing every malformed or ambiguous field.
import { quote } from '../errors.js';
import { NarInfoError } from './narinfo-error.js';
import { decodeText, splitKeyValueLines } from './narinfo-lines.js';
import type { KeyValueLine } from './narinfo-lines.js';
import type { NarFile, NarInfo, NarInfoFlavour } from './narinfo-types.js';
import { checkBasename, checkStorePath, decodeSha256, parseSize } from './narinfo-values.js';

/** Options of {@link parseNarInfo}. */
export interface ParseNarInfoOptions {
  /** The store directory every path must live in, e.g. `/nix/store` or `/gnu/store` (no trailing slash). */
  readonly storeDir: string;
}

const SINGLE = new Set([
  'StorePath',
  'NarHash',
  'NarSize',
  'References',
  'Deriver',
  'System',
  'CA',
  'Signature',
]);
const GROUP = new Set(['Compression', 'FileHash', 'FileSize']);
const CA = /^(text|fixed):(r:)?(md5|sha1|sha256|sha512):[A-Za-z0-9+/=]+$/;
const SIG = /^[^:\s]+:\S+$/;
const TOKEN = /^\S+$/;

interface Group {
  readonly url: KeyValueLine;
  readonly fields: Map<string, KeyValueLine>;
}

/** Parses a narinfo. Throws {@link NarInfoError} naming the field and line of the first problem. */
export function parseNarInfo(input: string | Uint8Array, options: ParseNarInfoOptions): NarInfo {
  const lines = splitKeyValueLines(decodeText(input, 'narinfo'), 'narinfo');
  const single = new Map<string, KeyValueLine>();
  const groups: Group[] = [];
  const sigs: string[] = [];
  for (const l of lines) {
    if (l.key === 'URL') {
      groups.push({ url: checkToken(l), fields: new Map() });
    } else if (l.key === 'Sig') {
      sigs.push(checkPattern(l, SIG, '<key name>:<signature>'));
    } else if (GROUP.has(l.key)) {
      const group = groups.at(-1);
      if (group === undefined) throw layoutError(l, 'a URL line before it');
      if (group.fields.has(l.key)) throw duplicate(l);
      group.fields.set(l.key, l);
    } else if (SINGLE.has(l.key)) {
      if (single.has(l.key)) throw duplicate(l);
      single.set(l.key, l);
    } else {
      throw new NarInfoError('narinfo-unknown-field', 'unknown narinfo field', {
        field: l.key,
        line: l.line,
        offset: l.offset,
        expected: `one of URL, Sig, ${[...GROUP, ...SINGLE].join(', ')}`,
      });
    }
  }
  const need = (key: string): KeyValueLine => {
    const l = single.get(key);
    if (l === undefined)
      throw new NarInfoError('narinfo-missing-field', 'a required narinfo field is missing', { field: key });
    return l;
  };
  const storePathLine = need('StorePath');
  const narHashLine = need('NarHash');
  const narSizeLine = need('NarSize');
  const referencesLine = need('References');
  if (groups.length === 0)
    throw new NarInfoError('narinfo-missing-field', 'a narinfo needs at least one URL', { field: 'URL' });
  checkStorePath(storePathLine.value, options.storeDir, site(storePathLine));
  decodeSha256(narHashLine.value, site(narHashLine));
  const narSize = parseSize(narSizeLine.value, site(narSizeLine));
  if (narSize === 0)
    throw new NarInfoError('narinfo-bad-size', 'a NAR is never empty', { ...site(narSizeLine), found: '0' });
  const signature = single.get('Signature');
  const flavour = detectFlavour(groups, narHashLine, signature);
  if (flavour !== 'nix' && sigs.length > 0) {
    throw new NarInfoError('narinfo-layout', 'Nix Sig lines in a Guix narinfo', {
      field: 'Sig',
      expected: 'either Sig lines (Nix) or one Signature line and URL groups (Guix)',
    });
  }
  const deriver = single.get('Deriver');
  const system = single.get('System');
  const ca = single.get('CA');
  return {
    flavour,
    storePath: storePathLine.value,
    files: groups.map(toFile),
    narHash: narHashLine.value,
    narSize,
    references: parseReferences(referencesLine),
    ...(deriver === undefined ? {} : { deriver: checkDeriver(deriver) }),
    ...(system === undefined ? {} : { system: checkToken(system).value }),
    sigs,
    ...(ca === undefined
      ? {}
      : { ca: checkPattern(ca, CA, 'text:<algo>:<hash> or fixed:[r:]<algo>:<hash>') }),
    ...(signature === undefined ? {} : { guixSignature: checkToken(signature).value }),
  };
}

function detectFlavour(
  groups: readonly Group[],
  narHash: KeyValueLine,
  signature: KeyValueLine | undefined,
): NarInfoFlavour {
  const first = groups[0]!.url;
  if (first.line > narHash.line) return 'guix';
  return signature !== undefined || groups.length > 1 ? 'guix-legacy' : 'nix';
}

function toFile(group: Group): NarFile {
  const compression = group.fields.get('Compression');
  const fileHash = group.fields.get('FileHash');
  const fileSize = group.fields.get('FileSize');
  if (fileHash !== undefined) decodeSha256(fileHash.value, site(fileHash));
  return {
    url: group.url.value,
    // A narinfo without Compression means bzip2 (Nix's rule).
    compression: compression === undefined ? 'bzip2' : checkToken(compression).value,
    ...(fileHash === undefined ? {} : { fileHash: fileHash.value }),
    ...(fileSize === undefined ? {} : { fileSize: parseSize(fileSize.value, site(fileSize)) }),
  };
}

function parseReferences(l: KeyValueLine): string[] {
  if (l.value === '') return [];
  const refs = l.value.split(' ');
  const seen = new Set<string>();
  for (const ref of refs) {
    if (ref === '') {
      throw new NarInfoError(
        'narinfo-bad-value',
        'an empty reference (a doubled, leading or trailing space)',
        { ...site(l), found: quote(l.value) },
      );
    }
    if (seen.has(ref)) {
      throw new NarInfoError('narinfo-bad-value', 'a reference is listed twice', {
        ...site(l),
        found: quote(ref),
      });
    }
    seen.add(checkBasename(ref, site(l)));
  }
  return refs;
}

function checkDeriver(l: KeyValueLine): string {
  const name = checkBasename(l.value, site(l));
  if (!name.endsWith('.drv')) {
    throw new NarInfoError('narinfo-bad-store-path', 'the deriver is not a derivation', {
      ...site(l),
      expected: 'a basename ending in .drv',
      found: quote(name),
    });
  }
  return name;
}

function checkToken(l: KeyValueLine): KeyValueLine {
  return TOKEN.test(l.value) ? l : badValue(l, 'a non-empty value without spaces');
}

function checkPattern(l: KeyValueLine, pattern: RegExp, expected: string): string {
  return pattern.test(l.value) ? l.value : badValue(l, expected);
}

function badValue(l: KeyValueLine, expected: string): never {
  throw new NarInfoError('narinfo-bad-value', 'malformed narinfo value', {
    ...site(l),
    expected,
    found: quote(l.value),
  });
}

function site(l: KeyValueLine): { field: string; line: number; offset: number } {
  return { field: l.key, line: l.line, offset: l.offset };
}

function duplicate(l: KeyValueLine): NarInfoError {
  return new NarInfoError('narinfo-duplicate-field', 'a single-valued narinfo field appears twice', site(l));
}

function layoutError(l: KeyValueLine, expected: string): NarInfoError {
  return new NarInfoError('narinfo-layout', `${l.key} outside a URL group`, { ...site(l), expected });
}
