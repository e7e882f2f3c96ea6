// `nix-cache-info`: the few facts a binary cache states about itself.
import { quote } from '../errors.js';
import { NarInfoError } from './narinfo-error.js';
import { decodeText, splitKeyValueLines } from './narinfo-lines.js';
import { parseSize } from './narinfo-values.js';

/** Content type Nix and Guix serve `nix-cache-info` with. */
export const NIX_CACHE_INFO_CONTENT_TYPE = 'text/x-nix-cache-info';

/** The contents of a `nix-cache-info` file. Absent fields are undefined. */
export interface NixCacheInfo {
  /** Store directory of the cache's paths, e.g. `/nix/store` or `/gnu/store`. */
  readonly storeDir: string;
  /** Whether clients may query many paths at once (written `1`/`0`). */
  readonly wantMassQuery?: boolean;
  /** Substituter priority: lower is preferred (Nix's cache.nixos.org is 40, `guix publish` 100). */
  readonly priority?: number;
}

/** Parses `nix-cache-info` text; refuses unknown, duplicate and malformed fields. */
export function parseNixCacheInfo(input: string | Uint8Array): NixCacheInfo {
  const seen = new Map<string, string>();
  for (const l of splitKeyValueLines(decodeText(input, 'nix-cache-info'), 'nix-cache-info')) {
    const site = { field: l.key, line: l.line, offset: l.offset };
    if (!['StoreDir', 'WantMassQuery', 'Priority'].includes(l.key)) {
      throw new NarInfoError('narinfo-unknown-field', 'unknown nix-cache-info field', {
        ...site,
        expected: 'StoreDir, WantMassQuery or Priority',
      });
    }
    if (seen.has(l.key))
      throw new NarInfoError('narinfo-duplicate-field', 'a nix-cache-info field appears twice', site);
    if (l.key === 'StoreDir' && !/^\/\S*[^/\s]$/.test(l.value)) {
      throw new NarInfoError('narinfo-bad-value', 'the store directory is not an absolute path', {
        ...site,
        found: quote(l.value),
      });
    }
    if (l.key === 'WantMassQuery' && l.value !== '0' && l.value !== '1') {
      throw new NarInfoError('narinfo-bad-value', 'WantMassQuery is a flag', {
        ...site,
        expected: '0 or 1',
        found: quote(l.value),
      });
    }
    if (l.key === 'Priority') parseSize(l.value, site);
    seen.set(l.key, l.value);
  }
  const storeDir = seen.get('StoreDir');
  if (storeDir === undefined)
    throw new NarInfoError('narinfo-missing-field', 'nix-cache-info has no StoreDir', { field: 'StoreDir' });
  const mass = seen.get('WantMassQuery');
  const priority = seen.get('Priority');
  return {
    storeDir,
    ...(mass === undefined ? {} : { wantMassQuery: mass === '1' }),
    ...(priority === undefined ? {} : { priority: Number(priority) }),
  };
}

/** Writes `nix-cache-info` in the order Nix and Guix use: StoreDir, WantMassQuery, Priority. */
export function writeNixCacheInfo(info: NixCacheInfo): string {
  let out = `StoreDir: ${info.storeDir}\n`;
  if (info.wantMassQuery !== undefined) out += `WantMassQuery: ${info.wantMassQuery ? 1 : 0}\n`;
  if (info.priority !== undefined) out += `Priority: ${info.priority}\n`;
  return out;
}
