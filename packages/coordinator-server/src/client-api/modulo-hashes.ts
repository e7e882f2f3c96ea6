// Modulo hashes ("hash derivation modulo") of derivations the coordinator
// already holds, which a new derivation's output paths are computed from.
// Texts come from the datastore (checked when they were uploaded), a whole
// closure in one recursive query; hashes are memoised in a bounded map so
// that a closure is read and hashed once per process, not once per upload.
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

/** The store directory of an absolute store path: everything before its last `/`. */
export function storeDirOf(path: string): string {
  return path.slice(0, Math.max(0, path.lastIndexOf('/')));
}

/**
 * Modulo hashes of `paths` (held derivations): from the memo, else computed
 * from the texts of their closure (each under its own path's store
 * directory), inputs first, without recursion (closures may be thousands
 * deep). Paths the datastore does not hold, or whose closure it does not
 * hold whole, are absent from the result.
 */
export async function resolveModuloHashes(
  db: Db,
  paths: Iterable<string>,
  cache: ModuloHashCache,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const unknown = [...new Set(paths)].filter((p) => !cacheInto(cache, p, out));
  if (unknown.length === 0) return out;
  const texts = await closureTexts(db, unknown);
  const parsed = new Map<string, Derivation>();
  const drvOf = (path: string): Derivation | undefined => {
    let drv = parsed.get(path);
    if (drv === undefined) {
      const text = texts.get(path);
      if (text === undefined) return undefined;
      drv = parseDerivation(text);
      parsed.set(path, drv);
    }
    return drv;
  };
  const failed = new Set<string>();
  for (const root of unknown) {
    const stack: { path: string; expanded: boolean }[] = [{ path: root, expanded: false }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (out.has(top.path) || failed.has(top.path) || cacheInto(cache, top.path, out)) {
        stack.pop();
        continue;
      }
      const drv = drvOf(top.path);
      if (drv === undefined) {
        failed.add(top.path);
        stack.pop();
        continue;
      }
      const inputs = [...drv.inputDrvs.keys()];
      if (!top.expanded) {
        top.expanded = true;
        for (const p of inputs)
          if (!out.has(p) && !failed.has(p) && !cacheInto(cache, p, out))
            stack.push({ path: p, expanded: false });
        continue;
      }
      stack.pop();
      // An input not held leaves this hash unknown; the caller reports the missing input.
      if (inputs.some((p) => !out.has(p))) {
        failed.add(top.path);
        continue;
      }
      const storeDir = storeDirOf(top.path);
      const hash = hashDerivationModulo(drv, {
        storeDir,
        name: derivationNameFromPath(top.path, storeDir),
        inputHashes: out,
      });
      cache.set(top.path, hash);
      out.set(top.path, hash);
    }
  }
  return out;
}

/** The texts of `roots` and of every derivation they depend on that the datastore holds. */
async function closureTexts(db: Db, roots: readonly string[]): Promise<Map<string, Uint8Array>> {
  const texts = new Map<string, Uint8Array>();
  for (let i = 0; i < roots.length; i += 1000) {
    const rows = await db
      .withRecursive('deps(path)', (qb) =>
        qb
          .selectFrom('derivations as d')
          .select('d.path')
          .where('d.path', 'in', roots.slice(i, i + 1000))
          .union(
            qb
              .selectFrom('derivation_inputs as i')
              .innerJoin('derivations as d', 'd.id', 'i.derivation_id')
              .innerJoin('deps', 'deps.path', 'd.path')
              .select('i.input_path as path'),
          ),
      )
      .selectFrom('deps')
      .innerJoin('derivations as d', 'd.path', 'deps.path')
      .select(['d.path', 'd.text'])
      .execute();
    for (const r of rows) texts.set(r.path, new Uint8Array(r.text));
  }
  return texts;
}

function cacheInto(cache: ModuloHashCache, path: string, out: Map<string, Uint8Array>): boolean {
  const hash = cache.get(path);
  if (hash === undefined) return false;
  out.set(path, hash);
  return true;
}
