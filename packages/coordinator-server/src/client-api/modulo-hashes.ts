// Modulo hashes ("hash derivation modulo") of derivations the coordinator
// already holds, which a new derivation's output paths are computed from.
// Texts come from the datastore (checked when they were uploaded); hashes are
// memoised in a bounded map so that a deep closure is hashed once per process.
import { getDerivation } from '@gbc/datastore';
import type { Db } from '@gbc/datastore';
import { derivationNameFromPath, hashDerivationModulo, parseDerivation } from '@gbc/store';
import type { Derivation } from '@gbc/store';

/** A memo of modulo hashes by `.drv` path, shared by the requests of one coordinator. */
export interface ModuloHashCache {
  get(path: string): Uint8Array | undefined;
  set(path: string, hash: Uint8Array): void;
}

/** Creates a memo keeping at most `capacity` hashes (default 200,000, about 20 MB), dropping the oldest. */
export function createModuloHashCache(capacity = 200_000): ModuloHashCache {
  const map = new Map<string, Uint8Array>();
  return {
    get: (path) => map.get(path),
    set(path, hash) {
      map.delete(path);
      map.set(path, hash);
      if (map.size > capacity) map.delete(map.keys().next().value as string);
    },
  };
}

/**
 * Modulo hashes of `paths` (held derivations), loading what the memo lacks and
 * their inputs from `db` (each under its own path's store directory), inputs first, without recursion (closures may be
 * thousands deep). Paths the datastore does not hold are absent from the result.
 */
export async function resolveModuloHashes(db: Db, paths: Iterable<string>, cache: ModuloHashCache): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const loaded = new Map<string, Derivation | null>();
  const stack: { path: string; expanded: boolean }[] = [...paths].map((path) => ({ path, expanded: false }));
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (out.has(top.path) || cacheInto(cache, top.path, out)) {
      stack.pop();
      continue;
    }
    let drv = loaded.get(top.path);
    if (drv === undefined) {
      const record = await getDerivation(db, top.path);
      drv = record === undefined ? null : parseDerivation(record.text);
      loaded.set(top.path, drv);
    }
    if (drv === null) {
      stack.pop();
      continue;
    }
    const missing = [...drv.inputDrvs.keys()].filter((p) => !out.has(p) && !cacheInto(cache, p, out) && loaded.get(p) !== null);
    if (missing.length > 0 && !top.expanded) {
      top.expanded = true;
      for (const p of missing) stack.push({ path: p, expanded: false });
      continue;
    }
    stack.pop();
    // An input not held leaves this hash unknown; the caller reports the missing input.
    if ([...drv.inputDrvs.keys()].some((p) => !out.has(p))) continue;
    const storeDir = storeDirOf(top.path);
    const hash = hashDerivationModulo(drv, { storeDir, name: derivationNameFromPath(top.path, storeDir), inputHashes: out });
    cache.set(top.path, hash);
    out.set(top.path, hash);
  }
  return out;
}

function cacheInto(cache: ModuloHashCache, path: string, out: Map<string, Uint8Array>): boolean {
  const hash = cache.get(path);
  if (hash === undefined) return false;
  out.set(path, hash);
  return true;
}

/** The store directory of an absolute store path: everything before its last `/`. */
export function storeDirOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}
