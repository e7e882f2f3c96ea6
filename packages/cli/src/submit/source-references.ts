// Finds the references of an input source by scanning its NAR for store
// paths of the same store directory that exist locally, as a store does when
// it adds a path: only the store directory is needed, no daemon.
import { existsSync } from 'node:fs';

/** Longest store path name Nix accepts, in bytes. */
const MAX_NAME = 211;
/** Characters of a store path's hash part (Nix base32: no e, o, u, t). */
const HASH = '[0-9a-df-np-sv-z]{32}';
const NAME_CHARS = '[A-Za-z0-9+\\-._?=]';

/** Options of scanStoreReferences. */
export interface ScanOptions {
  /** Whether a store path exists; default: its file exists (at `realPath(storePath)`). */
  readonly exists?: (storePath: string) => boolean;
  /** Where a store path's file is on this machine; default the path itself. */
  readonly realPath?: (storePath: string) => string;
}

/**
 * The store paths named in a NAR stream that exist in `storeDir`, sorted.
 * A name run after `storeDir/hash-` is cut back to the longest prefix that
 * exists (text after a path often continues with path-like characters).
 */
export async function scanStoreReferences(
  nar: AsyncIterable<Uint8Array>,
  storeDir: string,
  options: ScanOptions = {},
): Promise<string[]> {
  const realPath = options.realPath ?? ((p: string) => p);
  const exists = options.exists ?? ((p: string) => existsSync(realPath(p)));
  const pattern = new RegExp(`${escapeRegExp(storeDir)}/(${HASH})-(${NAME_CHARS}{1,${MAX_NAME}})`, 'g');
  const keep = storeDir.length + 34 + MAX_NAME;
  const candidates = new Set<string>();
  let carry = '';
  const scan = (text: string, final: boolean): void => {
    const limit = final ? text.length : text.length - keep;
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null && m.index < limit; m = pattern.exec(text)) {
      candidates.add(`${m[1]}-${m[2]}`);
      pattern.lastIndex = m.index + 1;
    }
    carry = final ? '' : text.slice(Math.max(0, limit));
  };
  for await (const chunk of nar) scan(carry + Buffer.from(chunk).toString('latin1'), false);
  scan(carry, true);
  const found = new Set<string>();
  for (const candidate of candidates) {
    for (let len = candidate.length; len > 33; len--) {
      const path = `${storeDir}/${candidate.slice(0, len)}`;
      if (exists(path)) {
        found.add(path);
        break;
      }
    }
  }
  return [...found].sort();
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
